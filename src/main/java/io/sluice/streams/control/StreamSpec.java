package io.sluice.streams.control;

/**
 * What a new stream is (API.md section 3): its id, type, what it relates to, and the model asked for.
 *
 * @param id             an unguessable id ({@link io.sluice.platform.control.Ids#newId()})
 * @param type           its type
 * @param relatedId      what it is about (a conversation for titles, a run for agents, the client's choice for typed
 *                       tasks), or {@code null}
 * @param conversationId the conversation its answer goes to ({@code chat}, {@code agent}, {@code conversation_title}),
 *                       or {@code null}
 * @param model          the model asked for, or {@code null} (the provider chooses)
 */
public record StreamSpec(String id, StreamType type, String relatedId, String conversationId, String model) {
}
