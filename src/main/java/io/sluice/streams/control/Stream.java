package io.sluice.streams.control;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A stream as its readers see it (API.md section 3): it outlives connections, and any number of its owner's
 * connections follow it. Two kinds: a {@link LocalStream} is generated on this node (the upstream request, the
 * coalescing, the grace and duration timers, the save); a {@link FollowedStream} is one that another node of a
 * cluster generates, followed here (a mirror, issue 10: its log is filled from the cluster's store, its stop goes to
 * the generating node). Readers never need to know which.
 *
 * <p><b>The log.</b> A stream's {@link EventLog} holds typed {@link StreamEntry entries}: {@code Opened} first, then
 * {@code Delta}s (coalesced pieces of the answer or the reasoning, each holding its text once), then {@code Ended}.
 * Readers follow the log at their own pace and render entries at the edge ({@link SseEvents} for SSE, the agent frames
 * for WebSocket), so the generation never waits for a reader.
 *
 * <p>Thread safety: the state is guarded by {@code this}; the log has its own lock and is only ever taken after this
 * one. Callers may call in from any thread.
 */
public abstract sealed class Stream permits LocalStream, FollowedStream {

    /** Saves the result of a stream that ended; its completion lets the {@code Ended} entry be appended. */
    public interface Saver {
        /**
         * Starts saving; must not block.
         *
         * @return the id of the saved message, or {@code null} where none is saved; completes exceptionally when
         *         the save failed
         */
        CompletionStage<String> save(Stream stream, End end);

        /**
         * The save failed for good within {@code SLUICE_SAVE_RETRY_SECONDS}: the stream has told its followers
         * {@code PERSISTENCE_FAILED}; the saver may keep trying in the background (the hub does, every 30 s, while
         * the node runs). {@code end} is how the stream really ended, to be saved as such.
         */
        default void failed(Stream stream, End end) {
        }
    }

    /**
     * Where a mirror's control goes (issue 10): the node that generates the stream, reached through Redis. A mirror is
     * a stream another node generates, followed on this one ({@link #mirror}); its stop, unload abort and attention
     * are forwarded, and its log is filled from Redis ({@link FollowedStream#replicate}).
     */
    public interface Remote {
        /** Asks the generating node to {@link #stop} the stream. */
        void stop(String reason, MessageStatus messageStatus);

        /** Asks the generating node for {@link #abortOnUnload}. */
        void abortOnUnload(long graceMillis);

        /** Tells the generating node that the owner attended (a follower attached here, a poll came). */
        void attended();
    }

    /**
     * How a stream ended.
     *
     * @param status        {@code COMPLETED}, {@code ERROR} or {@code STOPPED}
     * @param messageStatus the saved message's status
     * @param reason        for a stop, its reason (a {@link Reason}'s {@linkplain Reason#wire() wire value}, or what a
     *                      beacon sent); for an error, its code; else {@code null}
     * @param finishReason  the upstream's finish reason, or {@code null}
     * @param usage         the upstream's usage object, or {@code null}
     * @param model         the model that answered, or {@code null}
     * @param failure       the failure of an error, else {@code null}
     */
    public record End(StreamStatus status, MessageStatus messageStatus, String reason, String finishReason,
                      JsonObject usage, String model, UpstreamException failure) {

        /**
         * A stop: {@code stopped} for the user's own stops, {@code partial} when the generation was cut off.
         *
         * @param reason a {@link Reason}'s wire value, or a reason a client sent
         */
        public static End stopped(String reason, MessageStatus messageStatus) {
            return new End(StreamStatus.STOPPED, messageStatus, reason, null, null, null, null);
        }

        /** A stop for one of the server's own reasons ({@link #stopped(String, MessageStatus)}). */
        public static End stopped(Reason reason, MessageStatus messageStatus) {
            return stopped(reason.wire(), messageStatus);
        }

        /** @return whether it ended for {@code r} (its {@link #reason()} is {@code r}'s wire value) */
        public boolean endedBy(Reason r) {
            return r.wire().equals(reason);
        }
    }

    /**
     * Tunables, in ms and UTF-16 code units.
     *
     * @param maxMillis       the longest a generation may run, in ms ({@code SLUICE_STREAM_MAX_SECONDS}); 0 for no limit
     * @param saveRetryMillis how long a failed save is retried, in ms ({@code SLUICE_SAVE_RETRY_SECONDS})
     * @param rawMaxBytes     the bound of the raw record of the upstream response kept for the saved answer, in bytes
     *                        ({@code SLUICE_RAW_MAX_BYTES}, {@link RawCapture}); 0 keeps no record
     */
    public record Settings(int flushMillis, int flushChars, int maxChars, long maxMillis, long saveRetryMillis,
                           int rawMaxBytes) {

        /** Settings without a raw record. */
        public Settings(int flushMillis, int flushChars, int maxChars, long maxMillis, long saveRetryMillis) {
            this(flushMillis, flushChars, maxChars, maxMillis, saveRetryMillis, 0);
        }

        /** Settings with the default save retry, 30 s. */
        public Settings(int flushMillis, int flushChars, int maxChars, long maxMillis) {
            this(flushMillis, flushChars, maxChars, maxMillis, 30_000);
        }

        /** Settings without a duration limit. */
        public Settings(int flushMillis, int flushChars, int maxChars) {
            this(flushMillis, flushChars, maxChars, 0);
        }
    }

    /**
     * Where to resume reading (API.md section 3).
     *
     * @param afterId the id to continue after
     * @param first   an entry to send before the ones after {@code afterId} (the rest of a delta that an offset
     *                cut), carrying that delta's id, or {@code null}
     */
    public record Resumption(long afterId, EventLog.Logged<StreamEntry> first) {

        /** Everything after {@code afterId}. */
        public static Resumption after(long afterId) {
            return new Resumption(afterId, null);
        }
    }

    /** Rendered SSE events kept for readers at the same position: 4 slots, by id. */
    private static final int RENDERED_SLOTS = 4;

    final String id;
    private final StreamType type;
    private final String relatedId;
    private final String owner;
    private final String conversationId;
    final String model;
    private final Instant createdAt;
    final long startNanos = System.nanoTime();
    final EventLog<StreamEntry> log;
    private final Rendered[] rendered = new Rendered[RENDERED_SLOTS];

    // guarded by this
    StreamStatus status = StreamStatus.CONNECTING;
    End end;
    String messageId;
    Instant endedAt;
    /** Length of the answer sent in events, in UTF-16 code units. */
    int emittedContent;

    /**
     * @param id             an unguessable id (a random UUID)
     * @param conversationId the conversation of a {@code chat} or {@code agent} stream, else {@code null}
     * @param model          the model asked for, or {@code null}
     * @param createdAt      when the generating node created it
     * @param log            the stream's log, empty
     */
    Stream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
           Instant createdAt, EventLog<StreamEntry> log) {
        this.id = id;
        this.type = type;
        this.relatedId = relatedId;
        this.owner = owner;
        this.conversationId = conversationId;
        this.model = model;
        this.createdAt = createdAt;
        this.log = log;
    }

    /**
     * A mirror (issue 10): a stream that the node {@code remote} reaches generates, followed on this node
     * ({@link FollowedStream}).
     *
     * @param createdAt when the generating node created it
     * @param log       its log, empty
     */
    public static FollowedStream mirror(String id, StreamType type, String relatedId, String owner,
                                        String conversationId, String model, Instant createdAt,
                                        EventLog<StreamEntry> log, Remote remote) {
        return new FollowedStream(id, type, relatedId, owner, conversationId, model, createdAt, log, remote);
    }

    // --- control

    /**
     * Stops the generation for one of the server's own reasons ({@link #stop(String, MessageStatus)}).
     *
     * @return whether this call stopped it
     */
    public boolean stop(Reason reason, MessageStatus messageStatus) {
        return stop(reason.wire(), messageStatus);
    }

    /**
     * Stops the generation: the upstream request is cancelled at once, the text so far saved with
     * {@code messageStatus}, and followers get {@code stopped} with {@code reason}. Does nothing on an ended stream.
     *
     * @param reason a {@link Reason}'s wire value, or a reason a client sent (an abort beacon's)
     * @return whether this call stopped it (for a mirror: asked the generating node to)
     */
    public abstract boolean stop(String reason, MessageStatus messageStatus);

    /**
     * A beacon abort on page unload (API.md section 3): the stream is stopped with reason {@code unload} after
     * {@code graceMillis}, unless a follower attaches or a poll comes within it (a reload resumes; a closed tab
     * aborts). A connection that drops meanwhile does not count: the closing tab's own goes away after its beacon.
     */
    public abstract void abortOnUnload(long graceMillis);

    // --- followers

    /** Attaches a follower and wakes it; counts as the owner's attention for both grace periods. */
    public void follow(Follower follower) {
        log.follow(follower);
    }

    /** Detaches a follower; with none left, the resume grace starts now. Not attention (see {@link #abortOnUnload}). */
    public void unfollow(Follower follower) {
        log.unfollow(follower);
    }

    /** A poll or a new connection of the owner: the stream is still wanted. */
    public void attended() {
        log.attended();
    }

    /** Number of attached followers. */
    public int followerCount() {
        return log.followerCount();
    }

    // --- reading

    /** The stream's log, for readers. */
    public EventLog<StreamEntry> log() {
        return log;
    }

    /**
     * The SSE form of a logged entry (API.md section 2), rendered once for all the readers at that position: a small
     * cache keeps the last few.
     */
    public StreamEvent sse(EventLog.Logged<StreamEntry> logged) {
        int slot = (int) (logged.id() % RENDERED_SLOTS);
        Rendered cached = rendered[slot]; // a benign race: Rendered is immutable (final fields)
        // the entry itself must match: a resumed reader's first entry is the rest of a delta, under that delta's id
        if (cached != null && cached.id() == logged.id() && cached.entry() == logged.entry()) {
            return cached.event();
        }
        StreamEvent event = SseEvents.render(logged.id(), logged.entry());
        rendered[slot] = new Rendered(logged.id(), logged.entry(), event);
        return event;
    }

    /** A rendered event and what it was rendered from. */
    private record Rendered(long id, StreamEntry entry, StreamEvent event) {
    }

    /**
     * Where a reader resuming at content {@code offset} (UTF-16 code units, as JavaScript counts) starts: after the
     * last entry it is considered to have, and, when the offset falls inside a delta, with that delta's rest as a
     * first entry carrying the same id. Offset 0 replays everything; past 0, reasoning that came before the offset is
     * not sent again.
     *
     * @throws IllegalArgumentException when {@code offset} is negative or beyond the content sent so far
     */
    public Resumption resumeAt(int offset) {
        int sent = contentLength();
        if (offset < 0 || offset > sent) {
            throw new IllegalArgumentException("offset must be between 0 and " + sent);
        }
        if (offset == 0) {
            return Resumption.after(0);
        }
        long lastContentDelta = 0;
        long after = 0;
        while (true) {
            List<EventLog.Logged<StreamEntry>> batch = log.after(after, 256);
            if (batch.isEmpty()) {
                // nothing beyond the offset yet: continue right after the delta whose content reached it
                return Resumption.after(lastContentDelta);
            }
            for (EventLog.Logged<StreamEntry> logged : batch) {
                StreamEntry entry = logged.entry();
                if (entry.contentEnd() > offset) {
                    if (entry instanceof StreamEntry.Delta d && !d.reasoning() && d.from() < offset) {
                        StreamEntry.Delta rest = new StreamEntry.Delta(d.kind(), offset,
                                d.text().substring(offset - d.from()), d.contentEnd(), d.isFinal());
                        return new Resumption(logged.id(), new EventLog.Logged<>(logged.id(), rest));
                    }
                    return Resumption.after(logged.id() - 1);
                }
                if (entry instanceof StreamEntry.Delta d && !d.reasoning() && !d.text().isEmpty()) {
                    lastContentDelta = logged.id();
                }
                after = logged.id();
            }
        }
    }

    /** Whether the {@code Ended} entry is in the log (no entry will follow it). */
    public boolean terminated() {
        return log.terminated();
    }

    /** Id of the last entry (0 when empty). */
    public long lastEventId() {
        return log.lastId();
    }

    public synchronized StreamStatus status() {
        return status;
    }

    /** The answer so far (what was sent, plus what is held for coalescing). */
    public String content() {
        return text(DeltaCoalescer.Kind.CONTENT);
    }

    /** The reasoning so far (what was sent, plus what is held for coalescing). */
    public String reasoning() {
        return text(DeltaCoalescer.Kind.REASONING);
    }

    private String text(DeltaCoalescer.Kind kind) {
        StringBuilder text = new StringBuilder();
        long after = 0;
        List<EventLog.Logged<StreamEntry>> batch;
        while (!(batch = log.after(after, 1024)).isEmpty()) {
            for (EventLog.Logged<StreamEntry> logged : batch) {
                if (logged.entry() instanceof StreamEntry.Delta d && d.kind() == kind) {
                    text.append(d.text());
                }
                after = logged.id();
            }
        }
        synchronized (this) {
            text.append(held(kind));
        }
        return text.toString();
    }

    /** Text of {@code kind} held back for coalescing, not yet in the log; called with the lock held. */
    String held(DeltaCoalescer.Kind kind) {
        return "";
    }

    /** Length of the answer sent in events so far, in UTF-16 code units (the largest valid resume offset). */
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

    /** Time to first token in ms, or {@code null} when no token came (or none was seen here: a mirror). */
    public abstract Long timeToFirstTokenMs();

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

    /**
     * The raw record of the upstream response, gzipped ({@link RawCapture#encode()}), for the answer's save; the first
     * call freezes it. {@code null} when this stream keeps none ({@code SLUICE_RAW_MAX_BYTES=0}, a type whose result is
     * no message, a mirror) or after its answer was saved.
     */
    public abstract byte[] rawResponse();

    /** Integer value of a usage field, or {@code null}. */
    public static Integer usageInt(JsonObject usage, String key) {
        if (usage != null && usage.get(key) instanceof JsonNumber n) {
            return n.intValue();
        }
        return null;
    }
}
