package io.sluice.chat.control;

/**
 * A generated conversation title was saved (fired inside the saving transaction of a {@code conversation_title}
 * stream's end; observers that act on it use {@code @Observes(during = TransactionPhase.AFTER_SUCCESS)}, so they act
 * once, and only for a title that was committed). Seed 003's chain starts the conversation's topic title from it
 * (API.md section 13).
 *
 * @param owner          the conversation's owner
 * @param conversationId the conversation
 * @param title          the saved title (cleaned)
 * @param question       the conversation's first user message, or {@code ""}
 * @param model          the model the title stream followed (the chat's, or the one its creator named), or
 *                       {@code null}
 */
public record TitleSaved(String owner, String conversationId, String title, String question, String model) {
}
