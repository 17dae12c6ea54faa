/**
 * Chat over SSE (API.md section 2) and the typed streams (section 3): {@code POST /api/chat/stream} begins a turn (the
 * user message is saved first), starts a stream ({@code io.sluice.streams}) whose generation a provider runs, and
 * follows it as {@code stream}, {@code message}, {@code done}/{@code error} and {@code ping} events; the answer is
 * saved once, when the stream ends ({@code control.Answers} builds it, for agents' messages too).
 *
 * <p>Main classes: {@code boundary.ChatResource} ({@code /api/chat/stream}, {@code /resume}, {@code /abort}),
 * {@code GenerateResource} ({@code /api/generate}) and {@code GenerateAlias}; {@code control.Chats} (starts chat turns
 * and typed tasks, saves their results, and chains a conversation's title, then its topic, on the {@code AnswerSaved}
 * and {@code TitleSaved} events), {@code ChatStarter} (the {@code StreamStarter} of {@code POST /api/streams}),
 * {@code TaskPrompts} (the typed tasks' upstream requests and the clean-up of titles), {@code Revisions} (Regenerate
 * and Continue), {@code Generations} (the one-shot generations of {@code /api/generate}, section 9). The seeds' own
 * wire shapes (API.md section 13) are aliases served by the same code: resume and abort by {@code conversationId}
 * ({@code StreamTarget}, {@code ConversationStreams}), seed 004's {@code /api/v1/ai/generate}
 * ({@code GenerateAlias}), and seed 003's chain of a conversation's title, then its topic.
 *
 * <p>May import: {@code openai}, {@code warmup}, {@code streams} and the components below them (README, "Components
 * and what each may import"); never {@code agents} or {@code operations}.
 */
package io.sluice.chat;
