/**
 * Chat over SSE (API.md section 2): {@code POST /api/chat/stream} begins a turn (the user message is saved
 * first), starts a generation with a provider and streams it as {@code stream}, {@code message},
 * {@code done}/{@code error} and {@code ping} events; the answer is saved once, when the stream ends.
 * {@code boundary} holds the resource, {@code control} the per-stream state machine and the delta
 * coalescer.
 */
package io.sluice.chat;
