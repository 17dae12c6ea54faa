package io.sluice.chat.control;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.ChatProvider;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.Json;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One chat generation streamed to one SSE connection (API.md section 2).
 *
 * <p>Producing is decoupled from pushing: the provider's callbacks only append events to an in-memory queue
 * (never blocking on the client); a writer task on the managed executor drains the queue into the
 * {@link SseEventSink}, one task at a time per stream. Deltas pass through a {@link DeltaCoalescer}. A
 * {@code ping} is queued every heartbeat period.
 *
 * <p>The stream ends exactly once, in one of four ways, and the assistant message is saved exactly once,
 * before the terminal event is sent: completed ({@code done}, status {@code completed}), failed
 * ({@code error}, status {@code error}), client gone (a write failed: the upstream request is cancelled at
 * once and the text so far saved as {@code partial}, end reason {@code client_disconnected}), or server
 * shutdown ({@code partial}, {@code server_shutdown}).
 *
 * <p>Thread safety: all state is guarded by {@code this}; sink writes happen outside the lock.
 */
public final class ChatStream implements GenerationListener {

    private static final Logger LOG = Logger.getLogger(ChatStream.class.getName());

    /** Tunables of a stream. */
    public record Settings(Duration heartbeat, int flushMillis, int flushChars, int maxChars) {
    }

    private record Out(long id, String name, String data) {
    }

    private final String streamId;
    private final Turn turn;
    private final ChatProvider provider;
    private final CompletionRequest request;
    private final String upstreamRequestJson;
    private final SseEventSink sink;
    private final Sse sse;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final ConversationStore store;
    private final Settings settings;
    private final Consumer<ChatStream> onClosed;
    private final DeltaCoalescer coalescer;
    private final long startNanos = System.nanoTime();

    private final StringBuilder content = new StringBuilder();
    private final StringBuilder reasoning = new StringBuilder();
    private final ArrayDeque<Out> queue = new ArrayDeque<>();
    private long nextEventId = 1;
    private long firstTokenNanos = -1;
    private boolean ended;
    private boolean terminalQueued;
    private boolean draining;
    private boolean closed;
    private Generation generation;
    private ScheduledFuture<?> heartbeat;
    private ScheduledFuture<?> flushTimer;

    /**
     * @param streamId            the stream's unguessable id
     * @param turn                the begun turn (user message saved, answer id reserved)
     * @param upstreamRequestJson the request body as sent upstream, saved with the answer
     * @param onClosed            told once when the stream has ended and its connection is closed
     */
    public ChatStream(String streamId, Turn turn, ChatProvider provider, CompletionRequest request,
                      String upstreamRequestJson, SseEventSink sink, Sse sse, Executor executor,
                      ScheduledExecutorService scheduler, ConversationStore store, Settings settings,
                      Consumer<ChatStream> onClosed) {
        this.streamId = streamId;
        this.turn = turn;
        this.provider = provider;
        this.request = request;
        this.upstreamRequestJson = upstreamRequestJson;
        this.sink = sink;
        this.sse = sse;
        this.executor = executor;
        this.scheduler = scheduler;
        this.store = store;
        this.settings = settings;
        this.onClosed = onClosed;
        this.coalescer = new DeltaCoalescer(settings.flushChars(),
                TimeUnit.MILLISECONDS.toNanos(settings.flushMillis()));
    }

    public String streamId() {
        return streamId;
    }

    /** Sends the {@code stream} event, starts the heartbeat and the generation; runs on the managed executor. */
    public void open() {
        synchronized (this) {
            queue(event("stream", Json.createObjectBuilder()
                    .add("streamId", streamId)
                    .add("conversationId", turn.conversationId())
                    .add("userMessageId", turn.userMessageId())
                    .add("type", "chat")));
            long period = settings.heartbeat().toMillis();
            heartbeat = scheduler.scheduleAtFixedRate(this::ping, period, period, TimeUnit.MILLISECONDS);
        }
        Generation started;
        try {
            started = provider.stream(request, this);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "stream " + streamId + ": provider failed to start", e);
            onFailure(new UpstreamException(FailureCode.INTERNAL_ERROR, "the generation could not start"));
            return;
        }
        synchronized (this) {
            generation = started;
            if (!ended) {
                return;
            }
        }
        started.cancel();
    }

    // --- GenerationListener (provider threads)

    @Override
    public void onDelta(String contentDelta, String reasoningDelta) {
        synchronized (this) {
            if (ended) {
                return;
            }
            long now = System.nanoTime();
            if (firstTokenNanos < 0) {
                firstTokenNanos = now;
            }
            if (reasoningDelta != null && !reasoningDelta.isEmpty()) {
                reasoning.append(reasoningDelta);
                emit(coalescer.offer(DeltaCoalescer.Kind.REASONING, reasoningDelta, now), false);
            }
            if (contentDelta != null && !contentDelta.isEmpty()) {
                content.append(contentDelta);
                emit(coalescer.offer(DeltaCoalescer.Kind.CONTENT, contentDelta, now), false);
            }
            if (content.length() > settings.maxChars() || reasoning.length() > settings.maxChars()) {
                finishFailed(new UpstreamException(FailureCode.GENERATION_TOO_LONG,
                        "the answer exceeded " + settings.maxChars() + " characters"), true);
                return;
            }
            scheduleFlush();
        }
    }

    @Override
    public void onComplete(String finishReason, JsonObject usage, String model) {
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            stopFlushTimer();
            List<DeltaCoalescer.Piece> rest = coalescer.drain();
            if (rest.isEmpty()) {
                queue(event("message", Json.createObjectBuilder().add("delta", "").add("isFinal", true)));
            } else {
                emit(rest, true);
            }
            Message answer = answer(MessageStatus.COMPLETED, finishReason, model);
            answer.setUsage(intOf(usage, "prompt_tokens"), intOf(usage, "completion_tokens"),
                    intOf(usage, "total_tokens"));
            JsonObjectBuilder done = Json.createObjectBuilder()
                    .add("messageId", turn.answerMessageId())
                    .add("status", MessageStatus.COMPLETED.value())
                    .add("finishReason", finishReason == null ? JsonValue.NULL : Json.createValue(finishReason))
                    .add("usage", usage == null ? JsonValue.NULL : usage);
            saveThenTerminate(answer, "done", done);
        }
    }

    @Override
    public void onFailure(UpstreamException failure) {
        synchronized (this) {
            if (!ended) {
                finishFailed(failure, false);
            }
        }
    }

    /** The server is going down: cancel upstream, save what exists as {@code partial}. */
    public void shutdown() {
        Generation g;
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            g = generation;
            closeQuietly();
        }
        if (g != null) {
            g.cancel();
        }
        Message answer = answer(MessageStatus.PARTIAL, null, null);
        answer.setEndReason("server_shutdown");
        save(answer);
    }

    // --- inside; every method below runs with the lock held unless it says otherwise

    private void finishFailed(UpstreamException failure, boolean cancelUpstream) {
        ended = true;
        stopFlushTimer();
        emit(coalescer.drain(), false);
        if (cancelUpstream && generation != null) {
            generation.cancel();
        }
        Message answer = answer(MessageStatus.ERROR, null, null);
        answer.setEndReason(failure.code().name());
        JsonObjectBuilder details = Json.createObjectBuilder();
        if (failure.upstreamStatus() > 0) {
            details.add("upstreamStatus", failure.upstreamStatus());
        }
        if (failure.retryAfterSeconds() != null) {
            details.add("retryAfterSeconds", failure.retryAfterSeconds());
        }
        JsonObjectBuilder error = Json.createObjectBuilder()
                .add("error", failure.getMessage())
                .add("code", failure.code().name())
                .add("details", details)
                .add("messageId", turn.answerMessageId());
        saveThenTerminate(answer, "error", error);
    }

    /** A write failed: the client is gone. Cancel upstream at once, save the text so far as partial. */
    private void clientGone() {
        Generation g;
        boolean save;
        synchronized (this) {
            save = !ended;
            ended = true;
            stopFlushTimer();
            g = generation;
            closeQuietly();
        }
        if (!save) {
            return;
        }
        if (g != null) {
            g.cancel();
        }
        Message answer;
        synchronized (this) {
            answer = answer(MessageStatus.PARTIAL, null, null);
        }
        answer.setEndReason("client_disconnected");
        save(answer);
    }

    private void saveThenTerminate(Message answer, String name, JsonObjectBuilder data) {
        Out terminal = event(name, data);
        executor.execute(() -> {
            save(answer);
            synchronized (this) {
                terminalQueued = true;
                queue(terminal);
            }
        });
    }

    /** Saves outside the lock; a failure is logged (the client still gets its terminal event). */
    private void save(Message answer) {
        try {
            if (!store.saveAnswer(answer)) {
                LOG.info(() -> "stream " + streamId + ": conversation deleted meanwhile, answer dropped");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "stream " + streamId + ": could not save the answer", e);
        }
    }

    private Message answer(MessageStatus status, String finishReason, String model) {
        Instant now = Instant.now();
        Message m = new Message(turn.answerMessageId(), turn.conversationId(), turn.answerSeq(), "assistant",
                content.toString(), status, turn.startedAt());
        m.setReasoning(reasoning.isEmpty() ? null : reasoning.toString());
        m.setFinishReason(finishReason);
        m.setModel(model != null ? model : request.model());
        m.setStreamId(streamId);
        m.setUpstreamRequest(upstreamRequestJson);
        long end = System.nanoTime();
        m.setTimeToFirstTokenMs(firstTokenNanos < 0 ? null : TimeUnit.NANOSECONDS.toMillis(firstTokenNanos - startNanos));
        m.setDurationMs(TimeUnit.NANOSECONDS.toMillis(end - startNanos));
        m.setUpdatedAt(now);
        return m;
    }

    private void emit(List<DeltaCoalescer.Piece> pieces, boolean lastIsFinal) {
        for (int i = 0; i < pieces.size(); i++) {
            DeltaCoalescer.Piece piece = pieces.get(i);
            String key = piece.kind() == DeltaCoalescer.Kind.CONTENT ? "delta" : "reasoning";
            queue(event("message", Json.createObjectBuilder().add(key, piece.text())
                    .add("isFinal", lastIsFinal && i == pieces.size() - 1)));
        }
    }

    private Out event(String name, JsonObjectBuilder data) {
        return new Out(nextEventId++, name, data.build().toString());
    }

    private void scheduleFlush() {
        long deadline = coalescer.deadlineNanos();
        if (deadline == Long.MAX_VALUE || flushTimer != null) {
            return;
        }
        long delay = Math.max(0, deadline - System.nanoTime());
        flushTimer = scheduler.schedule(this::flushDue, delay, TimeUnit.NANOSECONDS);
    }

    private void flushDue() {
        synchronized (this) {
            flushTimer = null;
            if (ended) {
                return;
            }
            emit(coalescer.poll(System.nanoTime()), false);
            scheduleFlush();
        }
    }

    private void stopFlushTimer() {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
    }

    private void ping() {
        synchronized (this) {
            if (!closed) {
                queue(new Out(0, "ping", "{\"timestamp\":" + Instant.now().getEpochSecond() + "}"));
            }
        }
    }

    private void queue(Out out) {
        if (closed) {
            return;
        }
        queue.add(out);
        if (!draining) {
            draining = true;
            executor.execute(this::drain);
        }
    }

    /** The writer: runs on the managed executor, one at a time per stream, writes outside the lock. */
    private void drain() {
        while (true) {
            Out next;
            synchronized (this) {
                next = closed ? null : queue.poll();
                if (next == null) {
                    draining = false;
                    if (terminalQueued && !closed) {
                        closeQuietly();
                    }
                    return;
                }
            }
            if (!write(next)) {
                clientGone();
                return;
            }
        }
    }

    /**
     * Writes one event; {@code false} when the connection is gone. Any failure counts as gone: the
     * runtime reports a closed connection in several ways (a failed stage, {@link IllegalStateException},
     * a wrapped {@code IOException}), and none of them may leave the stream without its writer.
     */
    private boolean write(Out out) {
        if (sink.isClosed()) {
            return false;
        }
        OutboundSseEvent.Builder builder = sse.newEventBuilder().name(out.name()).data(out.data());
        if (out.id() > 0) {
            builder.id(Long.toString(out.id()));
        }
        try {
            sink.send(builder.build()).toCompletableFuture().join();
            return true;
        } catch (CompletionException | IllegalStateException e) {
            return false;
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "stream " + streamId + ": write failed", e);
            return false;
        }
    }

    private void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        queue.clear();
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        try {
            sink.close();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "closing the sink of " + streamId, e);
        }
        onClosed.accept(this);
    }

    private static Integer intOf(JsonObject usage, String key) {
        if (usage != null && usage.get(key) instanceof JsonNumber n) {
            return n.intValue();
        }
        return null;
    }
}
