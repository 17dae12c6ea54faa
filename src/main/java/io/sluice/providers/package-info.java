/**
 * Model providers: an OpenAI-compatible upstream streamed with the JDK HTTP client (event-stream parsing
 * by the WHATWG rules, every {@code chat.completion.chunk} dialect, failures mapped to stable codes,
 * cancellation that closes the connection, the raw record of each response, {@code RawCapture}) and the built-in
 * simulated model. {@code boundary} holds
 * {@code GET /api/info}.
 */
package io.sluice.providers;
