package io.sluice.chat.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.control.Continuation;
import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.platform.control.Ids;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamSpec;
import io.sluice.streams.control.StreamType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The two chat streams that revise an answer instead of adding a turn (README, "Extensions to API.md"):
 * <ul>
 *   <li><b>Regenerate</b> ({@code parentId}): a new version of the answer to a saved user message. The user message
 *       is not saved again, the earlier versions become inactive, and the history sent upstream is the active path
 *       before that user message, so nothing repeats. The new version is saved like any answer, with that
 *       {@code parentId}.</li>
 *   <li><b>Continue</b> ({@code continueFrom}): a new stream that carries a saved answer's text as context (the
 *       history, the user message, the answer so far as an assistant message, then {@link #CONTINUE_INSTRUCTION})
 *       and streams only the rest. When it ends, the answer is saved once more with the joined text, under its own
 *       id. Its stream's {@code relatedId} and its first event's {@code continues} name that answer.</li>
 * </ul>
 * Both are chat streams ({@code type: "chat"}) with the events of API.md section 2.
 */
@ApplicationScoped
public class Revisions {

    /** The user message that asks the model to go on, after the answer so far (sent as an assistant message). */
    public static final String CONTINUE_INSTRUCTION = "Continue your previous answer exactly where it stopped. "
            + "Do not repeat anything you already wrote, and do not add a preamble.";

    @Inject
    StreamHub hub;
    @Inject
    Providers providers;
    @Inject
    ConversationStore conversations;
    @Inject
    Chats chats;
    @Inject
    SluiceConfig config;

    /**
     * Answers a saved user message again, as a new version.
     *
     * @param conversationId the conversation, required
     * @param parentId       the user message to answer again
     * @throws ProblemException 400 for a missing conversation or an invalid field, 404 for an unknown or foreign
     *                          conversation or user message, 429 at a cap; nothing changes then
     */
    public Stream regenerate(String owner, String conversationId, String parentId, String model, String systemPrompt) {
        String id = required(conversationId, "conversationId");
        String effectiveModel = JsonBodies.optional(model, "model", Conversation.MAX_MODEL);
        String prompt = JsonBodies.optional(systemPrompt, "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        if (effectiveModel != null) {
            providers.resolve(effectiveModel, StreamType.CHAT); // an unknown model is refused before anything
        }
        return chats.begin(owner, () -> conversations.beginRegeneration(owner, id, parentId.strip(), effectiveModel,
                prompt, config.historyMessages()));
    }

    /**
     * Continues a saved answer in a new stream; the answer is saved with the joined text when that stream ends.
     *
     * @param messageId the answer to continue (a chat answer with text)
     * @param model     the model, or {@code null} for the one that wrote the answer
     * @throws ProblemException 400 for a missing conversation, an invalid field, a message that is no chat answer or
     *                          has no text; 404 for unknown or foreign ids; 409 while another stream continues the
     *                          same answer; 429 at a cap
     */
    public Stream continueAnswer(String owner, String conversationId, String messageId, String model,
                                 String systemPrompt) {
        String id = required(conversationId, "conversationId");
        String requestedModel = JsonBodies.optional(model, "model", Conversation.MAX_MODEL);
        String prompt = JsonBodies.optional(systemPrompt, "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        String answerId = messageId.strip();
        Route route = providers.resolve(requestedModel, StreamType.CHAT);
        hub.ensureRoomFor(owner);
        boolean running = hub.running(owner).stream()
                .anyMatch(s -> s.type() == StreamType.CHAT && answerId.equals(s.relatedId()));
        if (running) {
            throw new ProblemException(409, "conflict", "the answer is already being continued");
        }
        Continuation c = conversations.beginContinuation(owner, id, answerId, config.historyMessages());
        if (requestedModel == null && c.model() != null) {
            route = providers.resolve(c.model(), StreamType.CHAT);
        }
        Route chosen = route;
        CompletionRequest request = request(c, chosen.upstreamModel(), prompt != null ? prompt : c.systemPrompt());
        String upstreamJson = request.toOpenAiJson().toString();
        JsonObject first = JSON.createObjectBuilder()
                .add("conversationId", c.conversationId())
                .add("userMessageId", c.userMessageId())
                .add("continues", c.messageId())
                .build();
        return hub.start(owner, StreamSpec.of(Ids.newId(), StreamType.CHAT, c.messageId(), c.conversationId(), chosen),
                listener -> chosen.stream(request, listener), first, (stream, end) -> {
                    Message part = Answers.of(c.messageId(), c.conversationId(), 0, c.startedAt(), upstreamJson,
                            stream, end);
                    return conversations.saveContinuation(part, c.partial()) ? c.messageId() : null;
                });
    }

    /**
     * The continuation's upstream request: the history, the user message, the answer so far as an assistant
     * message, then {@link #CONTINUE_INSTRUCTION}.
     */
    static CompletionRequest request(Continuation c, String model, String systemPrompt) {
        List<CompletionRequest.ChatMessage> messages = new ArrayList<>(c.history().size() + 3);
        for (Turn.Entry entry : c.history()) {
            messages.add(new CompletionRequest.ChatMessage(entry.role(), entry.content()));
        }
        messages.add(new CompletionRequest.ChatMessage("user", c.question()));
        messages.add(new CompletionRequest.ChatMessage("assistant", c.partial()));
        messages.add(new CompletionRequest.ChatMessage("user", CONTINUE_INSTRUCTION));
        return new CompletionRequest(model, systemPrompt, messages, StreamType.CHAT.wire());
    }

    private static String required(String value, String field) {
        if (value == null || value.isBlank()) {
            throw ProblemException.badRequest(field + " is required to revise an answer");
        }
        return value.strip();
    }
}
