package io.sluice.chat.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamRecords;
import io.sluice.streams.control.StreamSpec;
import io.sluice.streams.control.StreamStatus;
import io.sluice.streams.control.StreamType;
import io.sluice.streams.control.Transactions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts the streams of API.md section 3 with what each type needs: chat turns (whose answer is saved as a message
 * when the stream ends, and whose first completed answer in a conversation starts a {@code conversation_title}
 * stream) and the typed tasks ({@code topic_title}, {@code prompt_optimization}, {@code system_prompt},
 * {@code conversation_title}). A generated title that is saved starts the conversation's {@code topic_title} stream,
 * whose result is saved as the conversation's topic (seed 003's chain, API.md section 13; off with
 * {@code SLUICE_TOPIC_TITLES=false}).
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
    StreamRecords records;
    @Inject
    Transactions transactions;
    @Inject
    Event<AnswerSaved> answerSaved;
    @Inject
    Event<TitleSaved> titleSaved;
    @Inject
    SluiceConfig config;

    /**
     * Validates a chat turn, begins it and starts its answer (API.md sections 2 and 3). One transaction saves the
     * user message (creating the conversation when none is given), reserves the answer's position and records the
     * stream, before the upstream call.
     *
     * @param conversationId an existing conversation of the owner, or {@code null} for a new one
     * @throws ProblemException 400 for a blank message, an invalid field or an unknown model (API.md section 10; the
     *                          conversation's own model when the turn names none), 404 for an unknown or foreign
     *                          conversation, 429 or 503 at a cap; nothing is saved then
     */
    public Stream startChat(String owner, String conversationId, String message, String model, String systemPrompt) {
        if (message == null || message.isBlank()) {
            throw ProblemException.badRequest("message is required and must not be blank");
        }
        String requestedModel = JsonBodies.optional(model, "model", Conversation.MAX_MODEL);
        String prompt = JsonBodies.optional(systemPrompt, "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        if (conversationId != null && conversationId.isBlank()) {
            throw ProblemException.badRequest("conversationId must not be blank; omit it for a new conversation");
        }
        if (requestedModel != null) {
            providers.resolve(requestedModel, StreamType.CHAT); // an unknown model is refused before anything
        }
        return begin(owner, () -> conversations.beginTurn(owner, conversationId, message, requestedModel, prompt,
                config.historyMessages()));
    }

    /**
     * Begins a turn and starts its answer: takes a place for the stream (before anything is saved, so a refusal
     * changes nothing), then one transaction runs {@code begin} (which saves the turn's user message, or finds the
     * one a Regenerate answers again) and records the stream.
     *
     * <p>The upstream request starts inside that transaction, once the turn's history is read, so that it overlaps the
     * commit (issue 21: the commit was most of what Sluice added to the first token). Its output is held by a
     * {@link GatedListener} until the commit has succeeded: only then does the stream exist, so nothing of the answer
     * is shown or saved before the user message is durable (the seed's rule). When the transaction rolls back, the
     * request is cancelled and the error answered as before; a transaction that runs its work again (a retry) cancels
     * the request of the earlier run.
     *
     * @param begin the turn's writes, run inside the transaction
     * @throws ProblemException what {@code begin} throws, 400 for a model no longer routed, 429 or 503 at a cap; the
     *                          transaction is then rolled back, the upstream request cancelled and the place given back
     */
    Stream begin(String owner, Supplier<Turn> begin) {
        StreamHub.Slot slot = hub.reserve(owner);
        EarlyRequest[] early = new EarlyRequest[1];
        try {
            String streamId = Ids.newId();
            Instant now = Instant.now();
            Route[] route = new Route[1];
            Turn turn = transactions.inNew(() -> {
                if (early[0] != null) {
                    early[0].cancel();
                    early[0] = null;
                }
                Turn begun = begin.get();
                // the conversation's own model, when the turn names none: refused (rolled back) if no longer routed
                route[0] = providers.resolve(begun.model(), StreamType.CHAT);
                records.startedAnswer(spec(streamId, begun, route[0]), owner, now, begun.answerMessageId(),
                        begun.answerSeq(), begun.userMessageId());
                early[0] = EarlyRequest.start(route[0], request(begun, route[0]), config.rawMaxBytes());
                return begun;
            });
            return startTurn(slot, streamId, turn, route[0], early[0]);
        } catch (RuntimeException e) {
            if (early[0] != null) {
                early[0].cancel();
            }
            slot.release();
            throw e;
        }
    }

    private static StreamSpec spec(String streamId, Turn turn, Route route) {
        return StreamSpec.of(streamId, StreamType.CHAT, turn.conversationId(), turn.conversationId(), route);
    }

    /** The upstream request of a begun turn: its system prompt, history and user message. */
    private static CompletionRequest request(Turn turn, Route route) {
        List<CompletionRequest.ChatMessage> messages = new ArrayList<>(turn.history().size() + 1);
        for (Turn.Entry entry : turn.history()) {
            messages.add(new CompletionRequest.ChatMessage(entry.role(), entry.content()));
        }
        messages.add(new CompletionRequest.ChatMessage("user", turn.message()));
        return new CompletionRequest(route.upstreamModel(), turn.systemPrompt(), messages, StreamType.CHAT.wire());
    }

    /**
     * Starts the answer of a begun turn, whose upstream request {@code early} started before the commit; its first
     * event carries the conversation and user message ids.
     */
    private Stream startTurn(StreamHub.Slot slot, String streamId, Turn turn, Route route, EarlyRequest early) {
        StreamSpec spec = spec(streamId, turn, route);
        String upstreamJson = early.request().toOpenAiJson().toString();
        JsonObject first = JSON.createObjectBuilder()
                .add("conversationId", turn.conversationId())
                .add("userMessageId", turn.userMessageId())
                .build();
        Turn answering = turn.withoutHistory(); // the history was sent; it is not kept for the stream's life
        return hub.start(slot, spec, early::attach, first,
                (stream, end) -> saveAnswer(answering, upstreamJson, stream, end), true, early.raw());
    }

    /**
     * An upstream request started before its stream (see {@link #begin}): the request, the generation (or why it
     * could not start) and the gate that holds its output.
     */
    private record EarlyRequest(CompletionRequest request, GatedListener gate, Generation generation,
                                RuntimeException failure) {

        /** Sends {@code request}; a provider that throws at once is not an error yet (the stream reports it). */
        static EarlyRequest start(Route route, CompletionRequest request, int rawMaxBytes) {
            GatedListener gate = new GatedListener(rawMaxBytes > 0 ? new RawCapture(rawMaxBytes) : null);
            try {
                return new EarlyRequest(request, gate, route.stream(request, gate), null);
            } catch (RuntimeException e) {
                return new EarlyRequest(request, gate, null, e);
            }
        }

        RawCapture raw() {
            return gate.rawCapture();
        }

        /**
         * Lets the output through to the stream's listener: the stream's start.
         *
         * @throws RuntimeException what the provider threw when the request was sent (the stream ends in
         *                          {@code error}, as when a request fails to start)
         */
        Generation attach(GenerationListener listener) {
            gate.attach(listener);
            if (failure != null) {
                throw failure;
            }
            return generation;
        }

        /** Cancels the request (its transaction rolled back); what it held is dropped. */
        void cancel() {
            if (generation != null) {
                generation.cancel();
            }
        }
    }

    /**
     * Starts a typed stream.
     *
     * @param relatedId for {@code conversation_title} the conversation (which must be the owner's), else an opaque id
     *                  of the client's choosing, or {@code null}
     * @param input     the text the type reads ({@code topic_title}, {@code prompt_optimization},
     *                  {@code system_prompt}); ignored for {@code conversation_title}
     * @param name      the assistant's name for {@code system_prompt}, or {@code null}
     * @param model     a route's name or a type name, or {@code null} for the type's default (a {@code fast} route)
     * @throws ProblemException 400 for an unknown model, 404 for someone else's conversation, 429 or 503 at a cap
     */
    public Stream startTask(String owner, StreamType type, String relatedId, String input, String name, String model) {
        Route route = providers.resolve(model, type);
        String effective = route.upstreamModel();
        String[] exchange = type == StreamType.CONVERSATION_TITLE ? conversations.firstExchange(owner, relatedId)
                : null;
        CompletionRequest request = switch (type) {
            case TOPIC_TITLE -> TaskPrompts.topicTitle(effective, input);
            case PROMPT_OPTIMIZATION -> TaskPrompts.promptOptimization(effective, input);
            case SYSTEM_PROMPT -> TaskPrompts.systemPrompt(effective, name, input);
            case CONVERSATION_TITLE -> TaskPrompts.conversationTitle(effective, exchange[0], exchange[1]);
            case CHAT -> throw new IllegalArgumentException("chat streams start with startChat");
            case AGENT -> throw new IllegalArgumentException("agent streams start in a multi-agent run");
            case COMPLETION, GENERATE -> throw new IllegalArgumentException(type.wire() + " streams start at their "
                    + "own endpoints");
        };
        // a client's topic_title (or other typed) stream writes nothing; a conversation_title stream saves the title
        return type == StreamType.CONVERSATION_TITLE
                ? startTask(owner, type, relatedId, relatedId, request, route,
                        titleOutcome(owner, relatedId, exchange[0], model))
                : startTask(owner, type, relatedId, null, request, route, StreamHub.Outcome.NONE);
    }

    private Stream startTask(String owner, StreamType type, String relatedId, String conversationId,
                             CompletionRequest request, Route route, StreamHub.Outcome outcome) {
        JsonObject first = JSON.createObjectBuilder()
                .add("relatedId", relatedId == null ? JsonValue.NULL : JSON.createValue(relatedId))
                .build();
        return hub.start(owner, StreamSpec.of(Ids.newId(), type, relatedId, conversationId, route),
                listener -> route.stream(request, listener), first, outcome);
    }

    /** Saves a {@code conversation_title} stream's title; {@code question} and {@code model} go on to the topic. */
    private StreamHub.Outcome titleOutcome(String owner, String conversationId, String question, String model) {
        return (stream, end) -> saveTitle(owner, conversationId, question, model, stream, end);
    }

    /**
     * Starts the {@code conversation_title} stream of a conversation whose first answer completed and whose title is
     * still the one Sluice gave it; after the answer's transaction committed, from the texts in memory.
     */
    void titleAfterFirstAnswer(@Observes(during = TransactionPhase.AFTER_SUCCESS) AnswerSaved saved) {
        if (!saved.completed() || !saved.firstAnswer() || !saved.provisional()) {
            return;
        }
        try {
            Route route = providers.forFollowUp(saved.model(), StreamType.CONVERSATION_TITLE);
            startTask(saved.owner(), StreamType.CONVERSATION_TITLE, saved.conversationId(), saved.conversationId(),
                    TaskPrompts.conversationTitle(route.upstreamModel(), saved.question(), saved.answer()), route,
                    titleOutcome(saved.owner(), saved.conversationId(), saved.question(), saved.model()));
        } catch (RuntimeException e) {
            LOG.log(Level.INFO, "no title stream for conversation " + saved.conversationId(), e);
        }
    }

    /** Saves a turn's answer, in the group commit's transaction. */
    private String saveAnswer(Turn turn, String upstreamJson, Stream stream, Stream.End end) {
        Message answer = Answers.of(turn.answerMessageId(), turn.conversationId(), turn.answerSeq(),
                turn.startedAt(), upstreamJson, stream, end);
        answer.setParentId(turn.userMessageId()); // the user message it answers: versions share it (Revisions)
        if (!conversations.saveAnswer(answer)) {
            return null;
        }
        answerSaved.fire(new AnswerSaved(turn.owner(), turn.conversationId(), turn.message(), answer.getContent(),
                turn.model(), turn.answerSeq() == 2, turn.provisionalTitle(),
                end.status() == StreamStatus.COMPLETED));
        return answer.getId();
    }

    /**
     * Starts the {@code topic_title} stream of a conversation whose generated title was saved (seed 003: the
     * conversation title, then the topic title; API.md section 13), after the title's transaction committed, unless
     * {@code SLUICE_TOPIC_TITLES=false}. Its {@code relatedId} is the conversation, its input
     * {@link TaskPrompts#topicInput} (the title and the first user message), and its route the title's follow-up
     * route; its cleaned output ({@link TaskPrompts#cleanTopic}) becomes the conversation's topic.
     */
    void topicAfterTitle(@Observes(during = TransactionPhase.AFTER_SUCCESS) TitleSaved saved) {
        if (!config.topicTitles()) {
            return;
        }
        try {
            startTopic(saved);
        } catch (RuntimeException e) {
            LOG.log(Level.INFO, "no topic stream for conversation " + saved.conversationId(), e);
        }
    }

    /**
     * Starts a conversation's {@code topic_title} stream (see {@link #topicAfterTitle}).
     *
     * @throws ProblemException 429 or 503 at a cap
     */
    Stream startTopic(TitleSaved saved) {
        Route route = providers.forFollowUp(saved.model(), StreamType.TOPIC_TITLE);
        String owner = saved.owner();
        String conversationId = saved.conversationId();
        return startTask(owner, StreamType.TOPIC_TITLE, conversationId, conversationId,
                TaskPrompts.topicTitle(route.upstreamModel(), TaskPrompts.topicInput(saved.title(), saved.question())),
                route, (stream, end) -> saveTopic(owner, conversationId, stream, end));
    }

    /** Saves a generated title, in the group commit's transaction; a title that was set is announced. */
    private String saveTitle(String owner, String conversationId, String question, String model, Stream stream,
                             Stream.End end) {
        if (end.status() == StreamStatus.COMPLETED) {
            String title = TaskPrompts.cleanTitle(stream.content());
            if (title != null && conversations.setTitle(owner, conversationId, title)) {
                titleSaved.fire(new TitleSaved(owner, conversationId, title, question == null ? "" : question,
                        model));
            }
        }
        return null;
    }

    /** Saves a generated topic, in the group commit's transaction. */
    private String saveTopic(String owner, String conversationId, Stream stream, Stream.End end) {
        if (end.status() == StreamStatus.COMPLETED) {
            String topic = TaskPrompts.cleanTopic(stream.content());
            if (topic != null) {
                conversations.setTopic(owner, conversationId, topic);
            }
        }
        return null;
    }
}
