/**
 * The OpenAI-compatible API (API.md section 8): {@code POST /v1/chat/completions} and {@code GET /v1/models}, for
 * existing clients and the official OpenAI SDKs, with {@code baseURL} set to {@code {root}/v1}.
 *
 * <p>Each call is a stream of the hub (type {@code completion}): it is admitted, guarded, cancelled, retained and
 * recorded like any stream, and its id is in {@code X-Sluice-Stream-Id}. The streamed answer is one more edge of the
 * stream's log ({@code ChunkEdge}: {@code chat.completion.chunk} events, then {@code data: [DONE]}), read by the same
 * {@code SseConnection} as every {@code /api} event stream; a non-streamed answer follows the log until it ends. The
 * upstream is always streamed.
 *
 * <p>The endpoint is a servlet rather than a JAX-RS resource so that it decides the status line at its first write: a
 * failure that comes before any output (an upstream 429, say) is answered with an HTTP status and OpenAI's error
 * object, which the SDKs turn into their own exception types, as they do for OpenAI itself.
 */
package io.sluice.openai;
