package io.sluice.streams.control;

import io.sluice.providers.control.Route;

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
 * @param route          the model route it goes to, a bounded label for metrics (API.md section 10)
 */
public record StreamSpec(String id, StreamType type, String relatedId, String conversationId, String model,
                         String route) {

    /** A stream on {@code route}: its model and label come from the route. */
    public static StreamSpec of(String id, StreamType type, String relatedId, String conversationId, Route route) {
        return new StreamSpec(id, type, relatedId, conversationId, route.model(), route.label());
    }
}
