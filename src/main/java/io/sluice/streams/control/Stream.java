package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One generation on the server (API.md section 3): it outlives connections, and any number of its owner's
 * connections follow it.
 *
 * <p><b>The log.</b> Every event but {@code ping} is appended to an append-only log with ids 1, 2, 3, ...
 * without gaps, so "the events after N" is an index. To keep memory at about the size of the text, a
 * {@code message} event stores only the range of the answer (or reasoning) it carries; its JSON is
 * rendered when a follower reads it. Readers never slow the generation: the generation appends and wakes
 * its {@link Follower}s, each of which reads from its own position at its own pace.
 *
 * <p><b>Ending.</b> A stream ends exactly once: completed ({@code done}), failed ({@code error}), or stopped
 * ({@code stopped}: a user stop, a beacon abort, abandonment past the resume grace, a server shutdown).
 * Then its {@link Outcome} runs once, off the lock (it saves the message), and only then is the terminal
 * event appended, so a client that sees it can read the saved message at once.
 *
 * <p><b>Abandonment.</b> While no follower is attached (and no poll came) for the resume grace period, the
 * upstream request is cancelled and the text so far saved as {@code partial} ({@code client_disconnected}).
 *
 * <p>Thread safety: the log and the text are guarded by {@code this}; followers read through
 * {@link #eventsAfter}. Provider callbacks, timers and followers may call in from any thread.
 */
public final class Stream implements GenerationListener {

    private static final Logger LOG = Logger.getLogger(Stream.class.getName());

    /** What happens when a stream ends, before its terminal event: typically saving the message. */
    public interface Outcome {
        /**
         * Runs once, on the stream executor, off the stream's lock.
         *
         * @return the id of the saved message, or {@code null} where none is saved
         */
        String save(Stream stream, End end);
    }

    /**
     * How a stream ended.
     *
     * @param status        {@code COMPLETED}, {@code ERROR} or {@code STOPPED}
     * @param messageStatus the saved message's status: {@code completed}, {@code error}, {@code stopped} or
     *                      {@code partial}
     * @param reason        for a stop, {@code user}, {@code unload}, {@code client_disconnected},
     *                      {@code server_shutdown}; for an error, its code; else {@code null}
     * @param finishReason  the upstream's finish reason, or {@code null}
     * @param usage         the upstream's usage object, or {@code null}
     * @param model         the model that answered, or {@code null}
     * @param failure       the failure of an error, else {@code null}
     */
    public record End(StreamStatus status, String messageStatus, String reason, String finishReason,
                      JsonObject usage, String model, UpstreamException failure) {
    }

    /** Tunables, in ms and UTF-16 code units. */
    public record Settings(int flushMillis, int flushChars, int maxChars, long resumeGraceMillis) {
    }

    /** A log entry: a rendered event, or a range of the answer or reasoning text. */
    private record Entry(String name, String data, boolean reasoningRange, int from, int to, int contentEnd,
                         boolean isFinal) {
        static Entry rendered(String name, String data, int contentEnd) {
            return new Entry(name, data, false, 0, 0, contentEnd, false);
        }
    }

    private final String id;
    private final StreamType type;
    private final String relatedId;
    private final String owner;
    private final String conversationId;
    private final String model;
    private final Instant createdAt = Instant.now();
    private final long startNanos = System.nanoTime();
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final Settings settings;
    private final Outcome outcome;
    private final DeltaCoalescer coalescer;
    private final ResumeGrace grace;
    private final Set<Follower> followers = ConcurrentHashMap.newKeySet();

    private final StringBuilder content = new StringBuilder();
    private final StringBuilder reasoning = new StringBuilder();
    private final List<Entry> log = new ArrayList<>();
    private StreamStatus status = StreamStatus.CONNECTING;
    private boolean ending;
    private boolean terminated;
    private End end;
    private String messageId;
    private Instant endedAt;
    private int emittedContent;
    private int emittedReasoning;
    private long firstTokenNanos = -1;
    private Generation generation;
    private ScheduledFuture<?> flushTimer;
    private ScheduledFuture<?> graceTimer;
    private volatile long unloadAbortNanos;
    private Runnable onTerminated = () -> { };

    /**
     * @param id             an unguessable id (a random UUID)
     * @param conversationId the conversation of a {@code chat} stream, else {@code null}
     * @param model          the model asked for, or {@code null}
     * @param outcome        saves the result when the stream ends
     */
    public Stream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                  Executor executor, ScheduledExecutorService scheduler, Settings settings, Outcome outcome) {
        this.id = id;
        this.type = type;
        this.relatedId = relatedId;
        this.owner = owner;
        this.conversationId = conversationId;
        this.model = model;
        this.executor = executor;
        this.scheduler = scheduler;
        this.settings = settings;
        this.outcome = outcome;
        this.grace = new ResumeGrace(settings.resumeGraceMillis());
        this.coalescer = new DeltaCoalescer(settings.flushChars(), TimeUnit.MILLISECONDS.toNanos(settings.flushMillis()));
    }

    // --- lifecycle

    /**
     * Appends the first event ({@code stream}, with {@code first} as its data), arms the resume grace, and
     * starts the generation with {@code start}. A failure to start ends the stream in {@code error}.
     *
     * @param onTerminated told once, after the terminal event was appended
     */
    public void start(JsonObject first, Supplier<Generation> start, Runnable onTerminated) {
        synchronized (this) {
            this.onTerminated = onTerminated;
            append(Entry.rendered("stream", first.toString(), 0));
            armGrace(grace.graceMillis());
        }
        Generation started;
        try {
            started = start.get();
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "stream " + id + ": the generation could not start", e);
            onFailure(new UpstreamException(FailureCode.INTERNAL_ERROR, "the generation could not start"));
            return;
        }
        synchronized (this) {
            generation = started;
            if (!ending) {
                return;
            }
        }
        started.cancel();
    }

    /**
     * Stops the generation: the upstream request is cancelled at once, the text so far saved with
     * {@code messageStatus}, and followers get {@code stopped} with {@code reason}. Does nothing on an ended
     * stream.
     *
     * @return whether this call stopped it
     */
    public boolean stop(String reason, String messageStatus) {
        Generation g;
        synchronized (this) {
            if (ending) {
                return false;
            }
            g = generation;
            finish(new End(StreamStatus.STOPPED, messageStatus, reason, null, null, null, null));
        }
        if (g != null) {
            g.cancel();
        }
        return true;
    }

    // --- followers

    /** Attaches a follower and wakes it; counts as the owner's attention for both grace periods. */
    public void attach(Follower follower) {
        followers.add(follower);
        attended();
        follower.wake();
    }

    /**
     * Detaches a follower; with none left, the resume grace starts now. A detach is not attention: it does
     * not cancel a pending unload abort (the closing tab's own connection goes away after its beacon).
     */
    public void detach(Follower follower) {
        followers.remove(follower);
        grace.detached();
    }

    /** A poll or a new connection of the owner: the stream is still wanted. */
    public void attended() {
        grace.attended();
    }

    /** Number of attached followers. */
    public int followerCount() {
        return followers.size();
    }

    /**
     * A beacon abort on page unload (API.md section 3): the stream is stopped with reason {@code unload}
     * after {@code graceMillis}, unless a follower attaches within it (a reload resumes; a closed tab aborts).
     */
    public void abortOnUnload(long graceMillis) {
        long requested = System.nanoTime();
        unloadAbortNanos = requested;
        scheduler.schedule(() -> {
            if (unloadAbortNanos == requested && !grace.attendedAfter(requested)) {
                stop("unload", "stopped");
            }
        }, graceMillis, TimeUnit.MILLISECONDS);
    }

    // --- reading

    /**
     * The events after {@code afterId}, at most {@code max}, rendered; empty when there are none yet.
     *
     * @param afterId the last event id the reader has (0 for all)
     */
    public synchronized List<StreamEvent> eventsAfter(long afterId, int max) {
        int from = (int) Math.max(0, Math.min(afterId, log.size()));
        int to = Math.min(log.size(), from + max);
        List<StreamEvent> events = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            events.add(render(i));
        }
        return events;
    }

    /**
     * Where a reader resuming at content {@code offset} (UTF-16 code units, as JavaScript counts) starts:
     * the id of the last event it is considered to have, and, when the offset falls inside a delta, that
     * delta's rest as a synthetic first event carrying the same id. Offset 0 replays everything; past 0,
     * reasoning that came before the offset is not sent again.
     *
     * @throws IllegalArgumentException when {@code offset} is negative or beyond the content so far
     */
    public synchronized Resumption resumeAt(int offset) {
        if (offset < 0 || offset > emittedContent) {
            throw new IllegalArgumentException("offset must be between 0 and " + emittedContent);
        }
        if (offset == 0) {
            return new Resumption(0, null); // everything, from the stream event on
        }
        int lo = 0;
        int hi = log.size();
        while (lo < hi) { // first entry whose contentEnd > offset
            int mid = (lo + hi) >>> 1;
            if (log.get(mid).contentEnd() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo == log.size()) {
            // nothing beyond the offset yet: continue right after the event whose content reached it
            int last = log.size() - 1;
            while (last > 0 && !(log.get(last).data() == null && !log.get(last).reasoningRange()
                    && log.get(last).to() > log.get(last).from())) {
                last--;
            }
            return new Resumption(last + 1, null);
        }
        Entry straddling = log.get(lo);
        if (straddling.data() == null && !straddling.reasoningRange() && straddling.from() < offset) {
            String rest = content.substring(offset, straddling.to());
            StreamEvent partial = new StreamEvent(lo + 1, "message", JSON.createObjectBuilder()
                    .add("delta", rest).add("isFinal", straddling.isFinal()).build().toString());
            return new Resumption(lo + 1, partial);
        }
        return new Resumption(lo, null);
    }

    /**
     * Where to resume reading.
     *
     * @param afterId the id to continue after
     * @param first   an event to send before the ones after {@code afterId}, or {@code null}
     */
    public record Resumption(long afterId, StreamEvent first) {
    }

    /** Whether the terminal event is in the log (no event will follow it). */
    public synchronized boolean terminated() {
        return terminated;
    }

    /** Id of the last event in the log (0 when empty). */
    public synchronized long lastEventId() {
        return log.size();
    }

    public synchronized StreamStatus status() {
        return status;
    }

    public synchronized String content() {
        return content.toString();
    }

    public synchronized String reasoning() {
        return reasoning.toString();
    }

    /**
     * Part of the answer or of the reasoning.
     *
     * @param from start, in UTF-16 code units
     * @param to   end (exclusive), at most the length of the text so far
     * @throws StringIndexOutOfBoundsException for a range outside the text
     */
    public synchronized String slice(boolean ofReasoning, int from, int to) {
        return (ofReasoning ? reasoning : content).substring(from, to);
    }

    /** Length of the content sent in events so far, in UTF-16 code units (the largest valid resume offset). */
    public synchronized int contentLength() {
        return emittedContent;
    }

    public synchronized String messageId() {
        return messageId;
    }

    /** How it ended, or {@code null} while running. */
    public synchronized End end() {
        return end;
    }

    public synchronized Instant endedAt() {
        return endedAt;
    }

    /** Time to first token in ms, or {@code null} when no token came. */
    public synchronized Long timeToFirstTokenMs() {
        return firstTokenNanos < 0 ? null : TimeUnit.NANOSECONDS.toMillis(firstTokenNanos - startNanos);
    }

    /** Duration from creation to now (or to the end), in ms. */
    public long durationMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    public String id() {
        return id;
    }

    public StreamType type() {
        return type;
    }

    public String relatedId() {
        return relatedId;
    }

    public String owner() {
        return owner;
    }

    public String conversationId() {
        return conversationId;
    }

    public String model() {
        return model;
    }

    public Instant createdAt() {
        return createdAt;
    }

    // --- GenerationListener

    @Override
    public void onDelta(String contentDelta, String reasoningDelta) {
        synchronized (this) {
            if (ending) {
                return;
            }
            long now = System.nanoTime();
            if (firstTokenNanos < 0) {
                firstTokenNanos = now;
                status = StreamStatus.STREAMING;
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
                fail(new UpstreamException(FailureCode.GENERATION_TOO_LONG,
                        "the answer exceeded " + settings.maxChars() + " characters"));
                if (generation != null) {
                    generation.cancel();
                }
                return;
            }
            scheduleFlush();
        }
    }

    @Override
    public void onComplete(String finishReason, JsonObject usage, String answeredBy) {
        synchronized (this) {
            if (!ending) {
                finish(new End(StreamStatus.COMPLETED, "completed", null, finishReason, usage,
                        answeredBy != null ? answeredBy : model, null));
            }
        }
    }

    @Override
    public void onFailure(UpstreamException failure) {
        synchronized (this) {
            if (!ending) {
                fail(failure);
            }
        }
    }

    // --- inside; called with the lock held

    private void fail(UpstreamException failure) {
        finish(new End(StreamStatus.ERROR, "error", failure.code().name(), null, null, model, failure));
    }

    private void finish(End how) {
        ending = true;
        end = how;
        cancelTimers();
        List<DeltaCoalescer.Piece> rest = coalescer.drain();
        boolean completed = how.status() == StreamStatus.COMPLETED;
        if (completed && rest.isEmpty()) {
            append(new Entry("message", null, false, emittedContent, emittedContent, emittedContent, true));
        } else {
            emit(rest, completed);
        }
        executor.execute(this::saveAndTerminate);
    }

    private void saveAndTerminate() {
        String saved = null;
        try {
            saved = outcome.save(this, end());
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "stream " + id + ": its result could not be saved", e);
        }
        Runnable told;
        synchronized (this) {
            messageId = saved;
            status = end.status();
            endedAt = Instant.now();
            append(Entry.rendered(terminalName(end.status()), terminalData(end, saved).build().toString(), emittedContent));
            terminated = true;
            told = onTerminated;
        }
        told.run();
    }

    private static String terminalName(StreamStatus status) {
        return switch (status) {
            case COMPLETED -> "done";
            case ERROR -> "error";
            default -> "stopped";
        };
    }

    private static JsonObjectBuilder terminalData(End end, String messageId) {
        JsonValue message = messageId == null ? JsonValue.NULL : JSON.createValue(messageId);
        return switch (end.status()) {
            case COMPLETED -> JSON.createObjectBuilder()
                    .add("messageId", message)
                    .add("status", "completed")
                    .add("finishReason", end.finishReason() == null ? JsonValue.NULL : JSON.createValue(end.finishReason()))
                    .add("usage", end.usage() == null ? JsonValue.NULL : end.usage());
            case ERROR -> {
                UpstreamException f = end.failure();
                JsonObjectBuilder details = JSON.createObjectBuilder();
                if (f.upstreamStatus() > 0) {
                    details.add("upstreamStatus", f.upstreamStatus());
                }
                if (f.retryAfterSeconds() != null) {
                    details.add("retryAfterSeconds", f.retryAfterSeconds());
                }
                yield JSON.createObjectBuilder()
                        .add("error", f.getMessage())
                        .add("code", f.code().name())
                        .add("details", details)
                        .add("messageId", message);
            }
            default -> JSON.createObjectBuilder()
                    .add("messageId", message)
                    .add("status", end.messageStatus())
                    .add("reason", end.reason());
        };
    }

    /*
     * Pieces of each kind leave the coalescer in order and concatenate to exactly the text offered, so a
     * piece covers [emitted so far, emitted so far + its length) of its text.
     */
    private void emit(List<DeltaCoalescer.Piece> pieces, boolean lastIsFinal) {
        for (int i = 0; i < pieces.size(); i++) {
            DeltaCoalescer.Piece piece = pieces.get(i);
            boolean isFinal = lastIsFinal && i == pieces.size() - 1;
            int length = piece.text().length();
            if (piece.kind() == DeltaCoalescer.Kind.CONTENT) {
                emittedContent += length;
                append(new Entry("message", null, false, emittedContent - length, emittedContent, emittedContent,
                        isFinal));
            } else {
                emittedReasoning += length;
                append(new Entry("message", null, true, emittedReasoning - length, emittedReasoning, emittedContent,
                        isFinal));
            }
        }
    }

    private StreamEvent render(int index) {
        Entry e = log.get(index);
        if (e.data() != null) {
            return new StreamEvent(index + 1, e.name(), e.data());
        }
        StringBuilder source = e.reasoningRange() ? reasoning : content;
        String data = JSON.createObjectBuilder()
                .add(e.reasoningRange() ? "reasoning" : "delta", source.substring(e.from(), e.to()))
                .add("isFinal", e.isFinal())
                .build().toString();
        return new StreamEvent(index + 1, e.name(), data);
    }

    private void append(Entry entry) {
        log.add(entry);
        for (Follower follower : followers) {
            follower.wake();
        }
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
            if (ending) {
                return;
            }
            emit(coalescer.poll(System.nanoTime()), false);
            scheduleFlush();
        }
    }

    private void armGrace(long delayMillis) {
        graceTimer = scheduler.schedule(this::checkGrace, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void checkGrace() {
        synchronized (this) {
            graceTimer = null;
            if (ending) {
                return;
            }
            long next = grace.nextCheckMillis(!followers.isEmpty());
            if (next > 0) {
                armGrace(next);
                return;
            }
        }
        stop("client_disconnected", "partial");
    }

    private void cancelTimers() {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
        if (graceTimer != null) {
            graceTimer.cancel(false);
            graceTimer = null;
        }
    }

    /** Integer value of a usage field, or {@code null}. */
    public static Integer usageInt(JsonObject usage, String key) {
        if (usage != null && usage.get(key) instanceof JsonNumber n) {
            return n.intValue();
        }
        return null;
    }
}
