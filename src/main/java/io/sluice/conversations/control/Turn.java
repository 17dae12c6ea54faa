package io.sluice.conversations.control;

import java.time.Instant;
import java.util.List;

/**
 * A chat turn that has begun: the user message is saved, the answer's id and position are reserved.
 *
 * @param owner              the owner key
 * @param conversationId     the conversation
 * @param userMessageId      the saved user message
 * @param answerMessageId    the id the assistant message will be saved under
 * @param answerSeq          the position reserved for the assistant message
 * @param startedAt          when the turn began
 * @param history            earlier messages to send upstream, oldest first (role, content)
 * @param message            the user's text
 * @param systemPrompt       the system prompt for this turn, or {@code null}
 * @param model              the model asked for, or {@code null} for the configured default
 * @param provisionalTitle   whether the conversation's title was derived by Sluice (not chosen by the user),
 *                           so that a {@code conversation_title} stream may replace it
 */
public record Turn(String owner, String conversationId, String userMessageId, String answerMessageId,
                   int answerSeq, Instant startedAt, List<Entry> history, String message, String systemPrompt,
                   String model, boolean provisionalTitle) {

    /** The same turn without its history: what a running stream keeps until it saves its answer. */
    public Turn withoutHistory() {
        return new Turn(owner, conversationId, userMessageId, answerMessageId, answerSeq, startedAt, List.of(), message,
                systemPrompt, model, provisionalTitle);
    }

    /** One earlier message: {@code role} is {@code user} or {@code assistant}. */
    public record Entry(String role, String content) {
    }
}
