/**
 * Chat over SSE (API.md section 2): {@code POST /api/chat/stream} begins a turn (the user message is saved
 * first), starts a generation with a provider and streams it as {@code stream}, {@code message},
 * {@code done}/{@code error} and {@code ping} events; the answer is saved once, when the stream ends.
 * {@code boundary} holds the resource, {@code control} the per-stream state machine and the delta
 * coalescer. The seeds' own wire shapes (API.md section 13) are aliases served by the same code: resume and abort by
 * {@code conversationId} ({@code StreamTarget}, {@code ConversationStreams}), seed 004's {@code /api/v1/ai/generate}
 * ({@code GenerateAlias}), and seed 003's chain of a conversation's title, then its topic title ({@code Chats}).
 */
package io.sluice.chat;
