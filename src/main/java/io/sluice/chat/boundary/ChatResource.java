package io.sluice.chat.boundary;

import io.sluice.chat.control.ChatStreams;
import io.sluice.conversations.boundary.ConversationsResource;
import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.identity.control.Owners;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.problems.control.ProblemException;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;

/**
 * {@code POST /api/chat/stream} (API.md section 2): saves the user message, then streams the answer as SSE
 * events {@code stream}, {@code message}..., and one of {@code done}, {@code stopped}, {@code error}, with
 * {@code ping} heartbeats. A bad request is refused with {@code application/problem+json} before anything
 * is saved or streamed.
 */
@Path("chat")
public class ChatResource {

    @Inject
    JsonBodies bodies;
    @Inject
    ConversationStore store;
    @Inject
    ChatStreams streams;
    @Inject
    SluiceConfig config;
    @Context
    HttpServletRequest request;

    /**
     * Body of {@code POST /api/chat/stream}.
     *
     * @param conversationId an existing conversation of the caller, or {@code null} for a new one
     * @param message        the user's text, required, not blank
     * @param model          model name sent upstream, optional
     * @param systemPrompt   overrides the conversation's system prompt for this turn, optional
     */
    public record ChatTurn(String conversationId, String message, String model, String systemPrompt) {
    }

    /**
     * Starts a chat turn and follows its stream; the SSE work runs on the managed executor and this method
     * returns at once.
     */
    @POST
    @Path("stream")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void stream(InputStream body, @Context SseEventSink sink, @Context Sse sse) {
        // everything that can refuse the request happens before the sink is touched: a refusal is answered
        // as application/problem+json and leaves no row behind
        ChatTurn input = bodies.read(body, ChatTurn.class);
        if (input.message() == null || input.message().isBlank()) {
            throw ProblemException.badRequest("message is required and must not be blank");
        }
        String model = ConversationsResource.optional(input.model(), "model", ConversationsResource.MAX_MODEL);
        String systemPrompt = ConversationsResource.optional(input.systemPrompt(), "systemPrompt",
                ConversationsResource.MAX_SYSTEM_PROMPT);
        if (input.conversationId() != null && input.conversationId().isBlank()) {
            throw ProblemException.badRequest("conversationId must not be blank; omit it for a new conversation");
        }
        Turn turn = store.beginTurn(Owners.of(request), input.conversationId(), input.message(), model,
                systemPrompt, config.historyMessages());
        streams.start(turn, sink, sse);
    }
}
