package io.sluice.conversations.control;

import java.time.Instant;
import java.util.List;

/**
 * A saved answer about to be continued (Continue): what its continuation's request needs, and what the join at its
 * end checks.
 *
 * @param owner          the owner key
 * @param conversationId the conversation
 * @param messageId      the answer being continued; the joined text is saved under this id
 * @param userMessageId  the user message it answers
 * @param question       that user message's text
 * @param partial        the answer's text so far
 * @param history        the messages before the user message (active path), oldest first
 * @param systemPrompt   the conversation's system prompt, or {@code null}
 * @param model          the model that wrote the answer (else the conversation's), or {@code null}
 * @param startedAt      when the continuation began
 */
public record Continuation(String owner, String conversationId, String messageId, String userMessageId,
                           String question, String partial, List<Turn.Entry> history, String systemPrompt,
                           String model, Instant startedAt) {
}
