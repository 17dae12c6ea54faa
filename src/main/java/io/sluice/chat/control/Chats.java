package io.sluice.chat.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.problems.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Providers;
import io.sluice.streams.control.Answers;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamStatus;
import io.sluice.streams.control.StreamType;
import io.sluice.streams.control.TaskPrompts;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the streams of API.md section 3 with what each type needs: chat turns (whose answer is saved as a
 * message when the stream ends, and whose first answer in a conversation starts a
 * {@code conversation_title} stream) and the typed tasks ({@code topic_title}, {@code prompt_optimization},
 * {@code system_prompt}, {@code conversation_title}).
 */
@ApplicationScoped
public class Chats {

    private static final Logger LOG = Logger.getLogger(Chats.class.getName());

    @Inject
    StreamHub hub;
    @Inject
    Providers providers;
    @Inject
    ConversationStore conversations;

    @Inject
    SluiceConfig config;

    /**
     * Validates a chat turn, begins it (the user message is saved) and starts its answer (API.md sections
     * 2 and 3).
     *
     * @param conversationId an existing conversation of the owner, or {@code null} for a new one
     * @throws ProblemException 400 for a blank message or invalid field, 404 for an unknown or foreign
     *                          conversation, 429 at a cap; nothing is saved then
     */
    public Stream startChat(String owner, String conversationId, String message, String model, String systemPrompt) {
        if (message == null || message.isBlank()) {
            throw ProblemException.badRequest("message is required and must not be blank");
        }
        String effectiveModel = JsonBodies.optional(model, "model", Conversation.MAX_MODEL);
        String prompt = JsonBodies.optional(systemPrompt, "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        if (conversationId != null && conversationId.isBlank()) {
            throw ProblemException.badRequest("conversationId must not be blank; omit it for a new conversation");
        }
        hub.ensureRoomFor(owner); // before the user message is saved: a refusal changes nothing
        Turn turn = conversations.beginTurn(owner, conversationId, message, effectiveModel, prompt,
                config.historyMessages());
        return startTurn(turn);
    }

    /** Starts the answer of a begun turn; its first event carries the conversation and user message ids. */
    public Stream startTurn(Turn turn) {
        String model = providers.effectiveModel(turn.model());
        List<CompletionRequest.ChatMessage> messages = new ArrayList<>(turn.history().size() + 1);
        for (Turn.Entry entry : turn.history()) {
            messages.add(new CompletionRequest.ChatMessage(entry.role(), entry.content()));
        }
        messages.add(new CompletionRequest.ChatMessage("user", turn.message()));
        CompletionRequest request = new CompletionRequest(model, turn.systemPrompt(), messages, StreamType.CHAT.wire());
        String upstreamJson = request.toOpenAiJson().toString();
        JsonObject first = JSON.createObjectBuilder()
                .add("conversationId", turn.conversationId())
                .add("userMessageId", turn.userMessageId())
                .build();
        return hub.start(turn.owner(), StreamType.CHAT, turn.conversationId(), turn.conversationId(),
                providers.forModel(model), request, first, (stream, end) -> saveAnswer(turn, upstreamJson, stream, end));
    }

    /**
     * Starts a typed stream.
     *
     * @param relatedId for {@code conversation_title} the conversation (which must be the owner's), else an
     *                  opaque id of the client's choosing, or {@code null}
     * @param input     the text the type reads ({@code topic_title}, {@code prompt_optimization},
     *                  {@code system_prompt}); ignored for {@code conversation_title}
     * @param name      the assistant's name for {@code system_prompt}, or {@code null}
     * @throws io.sluice.problems.control.ProblemException 404 for someone else's conversation, 429 at a cap
     */
    public Stream startTask(String owner, StreamType type, String relatedId, String input, String name, String model) {
        String effective = providers.effectiveModel(model);
        CompletionRequest request = switch (type) {
            case TOPIC_TITLE -> TaskPrompts.topicTitle(effective, input);
            case PROMPT_OPTIMIZATION -> TaskPrompts.promptOptimization(effective, input);
            case SYSTEM_PROMPT -> TaskPrompts.systemPrompt(effective, name, input);
            case CONVERSATION_TITLE -> {
                String[] exchange = conversations.firstExchange(owner, relatedId);
                yield TaskPrompts.conversationTitle(effective, exchange[0], exchange[1]);
            }
            case CHAT -> throw new IllegalArgumentException("chat streams start with startTurn");
            case AGENT -> throw new IllegalArgumentException("agent streams start in a multi-agent run");
        };
        JsonObject first = JSON.createObjectBuilder()
                .add("relatedId", relatedId == null ? JsonValue.NULL : JSON.createValue(relatedId))
                .build();
        String conversationId = type == StreamType.CONVERSATION_TITLE ? relatedId : null;
        Stream.Outcome outcome = type == StreamType.CONVERSATION_TITLE
                ? (stream, end) -> saveTitle(owner, relatedId, stream, end)
                : (stream, end) -> null;
        return hub.start(owner, type, relatedId, conversationId, providers.forModel(effective), request, first, outcome);
    }

    private String saveAnswer(Turn turn, String upstreamJson, Stream stream, Stream.End end) {
        Message answer = Answers.of(turn.answerMessageId(), turn.conversationId(), turn.answerSeq(),
                turn.startedAt(), upstreamJson, stream, end);
        answer.setParentId(turn.userMessageId()); // the user message it answers: versions share it (Revisions)
        if (!conversations.saveAnswer(answer)) {
            return null;
        }
        if (end.status() == StreamStatus.COMPLETED && turn.provisionalTitle() && firstAnswer(turn)) {
            try {
                startTask(turn.owner(), StreamType.CONVERSATION_TITLE, turn.conversationId(), null, null, turn.model());
            } catch (RuntimeException e) {
                LOG.log(Level.INFO, "no title stream for conversation " + turn.conversationId(), e);
            }
        }
        return answer.getId();
    }

    /** The first answer of a conversation: its user message took position 1, the answer 2. */
    private static boolean firstAnswer(Turn turn) {
        return turn.answerSeq() == 2;
    }

    private String saveTitle(String owner, String conversationId, Stream stream, Stream.End end) {
        if (end.status() == StreamStatus.COMPLETED) {
            String title = TaskPrompts.cleanTitle(stream.content());
            if (title != null) {
                conversations.setTitle(owner, conversationId, title);
            }
        }
        return null;
    }
}
