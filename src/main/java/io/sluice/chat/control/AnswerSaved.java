package io.sluice.chat.control;

/**
 * A chat answer was saved (fired inside the saving transaction; observers that act on it use
 * {@code @Observes(during = TransactionPhase.AFTER_SUCCESS)}, so they act once, and only for an answer that was
 * committed).
 *
 * @param owner          the conversation's owner
 * @param conversationId the conversation
 * @param question       the user's message of the turn
 * @param answer         the saved answer's text
 * @param model          the model the turn asked for, or {@code null}
 * @param firstAnswer    whether it is the conversation's first answer
 * @param provisional    whether the conversation's title is still the one Sluice gave it (not the user's)
 * @param completed      whether the answer completed (not stopped, failed or cut off)
 */
public record AnswerSaved(String owner, String conversationId, String question, String answer, String model,
                          boolean firstAnswer, boolean provisional, boolean completed) {
}
