package io.sluice.streams.control;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
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
 * <p><b>The log.</b> The generation writes typed {@link StreamEntry entries} to its {@link EventLog}: {@code Opened}
 * first, then {@code Delta}s (coalesced pieces of the answer or the reasoning, each holding its text once), then
 * {@code Ended}. Readers follow the log at their own pace and render entries at the edge ({@link SseEvents} for
 * SSE, the agent frames for WebSocket), so the generation never waits for a reader.
 *
 * <p><b>Coalescing</b> (seed behaviour): the first delta of each kind is appended at once; later ones are held by a
 * {@link DeltaCoalescer} and appended when {@code flushChars} are held or when the node's {@link FlushTicker} finds
 * them {@code flushMillis} old.
 *
 * <p><b>Ending.</b> A stream ends exactly once: completed, failed, or stopped (a user stop, a beacon abort,
 * abandonment past the resume grace, a server shutdown). Its result is then saved through the {@link Saver} (a
 * group-committed transaction), and only after the save is the {@code Ended} entry appended, so a client that sees
 * the terminal event can read the saved message at once. A failed save is tried again with backoff for
 * {@code SLUICE_SAVE_RETRY_SECONDS}; a client is never told {@code completed} for an answer that is not saved: past
 * that time the terminal event is an {@code error} of code {@code PERSISTENCE_FAILED} (issue 11, rule 1).
 *
 * <p><b>Abandonment.</b> While no follower is attached (and no poll came) for the resume grace period, the
 * upstream request is cancelled and the text so far saved as {@code partial} ({@code client_disconnected}).
 *
 * <p><b>Duration limit</b> ({@code SLUICE_STREAM_MAX_SECONDS}, issue 12): one timer per stream, armed at start; when
 * it fires on a stream still running, the upstream request is cancelled and the stream ends with an {@code error} of
 * code {@code STREAM_TIMEOUT}, its text so far saved as {@code partial}. So a trickling upstream, which the idle
 * timeout never cuts off, cannot hold a stream forever.
 *
 * <p>Thread safety: the generation state is guarded by {@code this}; the log has its own lock and is only ever
 * taken after this one. Provider callbacks, timers and readers may call in from any thread.
 */
public final class Stream implements GenerationListener {

    private static final Logger LOG = Logger.getLogger(Stream.class.getName());
    /** The first wait before a failed save is tried again, in ms. */
    static final long FIRST_SAVE_RETRY_MILLIS = 500;
    /** The longest wait between two tries of a failed save, in ms. */
    static final long MAX_SAVE_RETRY_MILLIS = 8_000;

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
     * are forwarded, and its log is filled from Redis ({@link #replicate}).
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

    private final String id;
    private final StreamType type;
    private final String relatedId;
    private final String owner;
    private final String conversationId;
    private final String model;
    private final Instant createdAt;
    private final long startNanos = System.nanoTime();
    private final EventLog<StreamEntry> log;
    private final ScheduledExecutorService scheduler;
    private final FlushTicker ticker;
    private final Settings settings;
    private final Saver saver;
    private final DeltaCoalescer coalescer;
    /** The generating node, for a mirror; {@code null} for a stream generated here. */
    private final Remote remote;
    private final Rendered[] rendered = new Rendered[RENDERED_SLOTS];
    /**
     * The raw record of the upstream response, for the saved answer; {@code null} when none is kept, and once the
     * answer is saved (a retained stream does not hold it).
     */
    private volatile RawCapture raw;

    private StreamStatus status = StreamStatus.CONNECTING;
    private boolean ending;
    private End end;
    private String messageId;
    private Instant endedAt;
    private int receivedContent;
    private int receivedReasoning;
    private int emittedContent;
    private int emittedReasoning;
    private long firstTokenNanos = -1;
    private long dueTold = -1;
    private Generation generation;
    private ScheduledFuture<?> graceTimer;
    private ScheduledFuture<?> deadline;
    private volatile long unloadAbortNanos;
    private Runnable onTerminated = () -> { };

    /**
     * @param id             an unguessable id (a random UUID)
     * @param conversationId the conversation of a {@code chat} or {@code agent} stream, else {@code null}
     * @param model          the model asked for, or {@code null}
     * @param log            the stream's log, empty
     * @param scheduler      runs the grace and unload timers
     * @param ticker         flushes held deltas when they are due
     * @param saver          saves the result when the stream ends
     */
    public Stream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                  EventLog<StreamEntry> log, ScheduledExecutorService scheduler, FlushTicker ticker, Settings settings,
                  Saver saver) {
        this(id, type, relatedId, owner, conversationId, model, Instant.now(), log, scheduler, ticker, settings, saver,
                null, null);
    }

    /**
     * A stream whose upstream request started before it (a chat turn's, overlapping the commit of its user message):
     * the raw record of the response is the one that request already writes to.
     *
     * @param raw the request's raw record, or {@code null} to make one as {@code settings} say
     * @see #Stream(String, StreamType, String, String, String, String, EventLog, ScheduledExecutorService,
     *      FlushTicker, Settings, Saver)
     */
    public Stream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                  EventLog<StreamEntry> log, ScheduledExecutorService scheduler, FlushTicker ticker, Settings settings,
                  Saver saver, RawCapture raw) {
        this(id, type, relatedId, owner, conversationId, model, Instant.now(), log, scheduler, ticker, settings, saver,
                null, raw);
    }

    /**
     * A mirror (issue 10): a stream that the node {@code remote} reaches generates, followed on this node. Its log
     * starts empty and is filled by {@link #replicate}; {@link #stop}, {@link #abortOnUnload} and attention go to
     * {@code remote}; it never starts a generation or saves anything.
     *
     * @param createdAt when the generating node created it
     */
    public static Stream mirror(String id, StreamType type, String relatedId, String owner, String conversationId,
                                String model, Instant createdAt, EventLog<StreamEntry> log, Remote remote) {
        return new Stream(id, type, relatedId, owner, conversationId, model, createdAt, log, null, null,
                new Settings(1, 1, Integer.MAX_VALUE), null, remote, null);
    }

    private Stream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                   Instant createdAt, EventLog<StreamEntry> log, ScheduledExecutorService scheduler, FlushTicker ticker,
                   Settings settings, Saver saver, Remote remote, RawCapture givenRaw) {
        this.createdAt = createdAt;
        this.remote = remote;
        this.id = id;
        this.type = type;
        this.relatedId = relatedId;
        this.owner = owner;
        this.conversationId = conversationId;
        this.model = model;
        this.log = log;
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.settings = settings;
        this.saver = saver;
        this.coalescer = new DeltaCoalescer(settings.flushChars(),
                TimeUnit.MILLISECONDS.toNanos(settings.flushMillis()));
        this.raw = givenRaw != null ? givenRaw
                : remote == null && settings.rawMaxBytes() > 0 ? new RawCapture(settings.rawMaxBytes()) : null;
    }

    // --- lifecycle

    /**
     * Appends the first entry ({@code stream}, with {@code first} as its data), arms the resume grace, and starts
     * the generation with {@code start}. A failure to start ends the stream in {@code error}.
     *
     * @param onTerminated told once, after the {@code Ended} entry was appended
     */
    public void start(JsonObject first, Supplier<Generation> start, Runnable onTerminated) {
        synchronized (this) {
            this.onTerminated = onTerminated;
            log.append(new StreamEntry.Opened(first));
            armGrace(log.graceLeftMillis());
            if (settings.maxMillis() > 0) {
                deadline = scheduler.schedule(this::timeUp, settings.maxMillis(), TimeUnit.MILLISECONDS);
            }
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
     * @return whether this call stopped it
     */
    public boolean stop(String reason, MessageStatus messageStatus) {
        if (remote != null) {
            if (log.terminated()) {
                return false;
            }
            remote.stop(reason, messageStatus);
            return true;
        }
        Generation g;
        synchronized (this) {
            if (ending) {
                return false;
            }
            g = generation;
            finish(End.stopped(reason, messageStatus));
        }
        if (g != null) {
            g.cancel();
        }
        save();
        return true;
    }

    // --- followers

    /** Attaches a follower and wakes it; counts as the owner's attention for both grace periods. */
    public void follow(Follower follower) {
        log.follow(follower);
        if (remote != null) {
            remote.attended();
        }
    }

    /** Detaches a follower; with none left, the resume grace starts now. Not attention (see {@link #abortOnUnload}). */
    public void unfollow(Follower follower) {
        log.unfollow(follower);
    }

    /** A poll or a new connection of the owner: the stream is still wanted. */
    public void attended() {
        log.attended();
        if (remote != null) {
            remote.attended();
        }
    }

    /** Number of attached followers. */
    public int followerCount() {
        return log.followerCount();
    }

    /**
     * A beacon abort on page unload (API.md section 3): the stream is stopped with reason {@code unload} after
     * {@code graceMillis}, unless a follower attaches or a poll comes within it (a reload resumes; a closed tab
     * aborts). A connection that drops meanwhile does not count: the closing tab's own goes away after its beacon.
     */
    public void abortOnUnload(long graceMillis) {
        if (remote != null) {
            remote.abortOnUnload(graceMillis);
            return;
        }
        long requested = System.nanoTime();
        unloadAbortNanos = requested;
        scheduler.schedule(() -> {
            if (unloadAbortNanos == requested && !log.attendedAfter(requested)) {
                stop(Reason.UNLOAD, MessageStatus.STOPPED);
            }
        }, graceMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Appends, on a mirror, the next entry read from the generating node's log (in id order, without gaps), and
     * takes its state from it: streaming after the first delta, the end, the saved message and the content length
     * (UTF-16 code units) from the entries.
     *
     * @throws IllegalStateException on a stream generated here, or after the {@code Ended} entry
     */
    public void replicate(StreamEntry entry) {
        boolean last = entry instanceof StreamEntry.Ended;
        synchronized (this) {
            if (remote == null) {
                throw new IllegalStateException("only a mirror replicates");
            }
            emittedContent = entry.contentEnd();
            if (entry instanceof StreamEntry.Delta && status == StreamStatus.CONNECTING) {
                status = StreamStatus.STREAMING;
            } else if (entry instanceof StreamEntry.Ended e) {
                ending = true;
                end = e.end();
                messageId = e.messageId();
                status = e.end().status();
                endedAt = Instant.now();
            }
            if (last) {
                log.terminate(entry);
            } else {
                log.append(entry);
            }
        }
        if (last) {
            log.compact(CompactStreamLog::of);
        }
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
            text.append(coalescer.held(kind));
        }
        return text.toString();
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

    /**
     * The raw record of the upstream response, gzipped ({@link RawCapture#encode()}), for the answer's save; the first
     * call freezes it. {@code null} when this stream keeps none ({@code SLUICE_RAW_MAX_BYTES=0}, a type whose result is
     * no message, a mirror) or after its answer was saved.
     */
    public byte[] rawResponse() {
        RawCapture r = raw;
        return r == null ? null : r.encode();
    }

    // --- GenerationListener

    @Override
    public RawCapture rawCapture() {
        return raw;
    }

    @Override
    public void onDelta(String contentDelta, String reasoningDelta) {
        boolean endedHere = false;
        Generation tooLong = null;
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
                receivedReasoning += reasoningDelta.length();
                emit(coalescer.offer(DeltaCoalescer.Kind.REASONING, reasoningDelta, now), false);
            }
            if (contentDelta != null && !contentDelta.isEmpty()) {
                receivedContent += contentDelta.length();
                emit(coalescer.offer(DeltaCoalescer.Kind.CONTENT, contentDelta, now), false);
            }
            if (receivedContent > settings.maxChars() || receivedReasoning > settings.maxChars()) {
                fail(new UpstreamException(FailureCode.GENERATION_TOO_LONG,
                        "the answer exceeded " + settings.maxChars() + " characters"));
                tooLong = generation;
                endedHere = true;
            } else {
                holdUntilDue();
            }
        }
        if (endedHere) {
            if (tooLong != null) {
                tooLong.cancel();
            }
            save();
        }
    }

    @Override
    public void onComplete(String finishReason, JsonObject usage, String answeredBy) {
        synchronized (this) {
            if (ending) {
                return;
            }
            finish(new End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, finishReason, usage,
                    answeredBy != null ? answeredBy : model, null));
        }
        save();
    }

    @Override
    public void onFailure(UpstreamException failure) {
        synchronized (this) {
            if (ending) {
                return;
            }
            fail(failure);
        }
        save();
    }

    /**
     * Appends held text that has waited {@code flushMillis} at {@code nowNanos}; called by the {@link FlushTicker}
     * at the deadline it was given, and harmless at any other time.
     */
    synchronized void flushDue(long nowNanos) {
        if (ending) {
            return;
        }
        emit(coalescer.poll(nowNanos), false);
        holdUntilDue();
    }

    // --- inside; called with the lock held

    private void fail(UpstreamException failure) {
        finish(new End(StreamStatus.ERROR, MessageStatus.ERROR, failure.code().name(), null, null, model, failure));
    }

    /** Marks the end and appends what was held; the caller then calls {@link #save()} off the lock. */
    private void finish(End how) {
        ending = true;
        end = how;
        if (graceTimer != null) {
            graceTimer.cancel(false);
            graceTimer = null;
        }
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        List<DeltaCoalescer.Piece> rest = coalescer.drain();
        boolean completed = how.status() == StreamStatus.COMPLETED;
        if (completed && rest.isEmpty()) {
            log.append(new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, emittedContent, "", emittedContent, true));
        } else {
            emit(rest, completed);
        }
    }

    /** Tells the ticker when held text is due, once per holding period. */
    private void holdUntilDue() {
        long deadline = coalescer.deadlineNanos();
        if (deadline != Long.MAX_VALUE && dueTold != deadline) {
            dueTold = deadline;
            ticker.due(this, deadline);
        }
    }

    /*
     * Pieces of each kind leave the coalescer in order and concatenate to exactly the text offered, so a piece
     * covers [emitted so far, emitted so far + its length) of its text.
     */
    private void emit(List<DeltaCoalescer.Piece> pieces, boolean lastIsFinal) {
        for (int i = 0; i < pieces.size(); i++) {
            DeltaCoalescer.Piece piece = pieces.get(i);
            boolean isFinal = lastIsFinal && i == pieces.size() - 1;
            String text = piece.text();
            if (piece.kind() == DeltaCoalescer.Kind.CONTENT) {
                int from = emittedContent;
                emittedContent += text.length();
                log.append(new StreamEntry.Delta(piece.kind(), from, text, emittedContent, isFinal));
            } else {
                int from = emittedReasoning;
                emittedReasoning += text.length();
                log.append(new StreamEntry.Delta(piece.kind(), from, text, emittedContent, isFinal));
            }
        }
    }

    // --- ending, off the lock

    /** Saves the result, then appends the {@code Ended} entry; runs once per stream (after {@link #finish}). */
    private void save() {
        End how;
        synchronized (this) {
            how = end;
        }
        attemptSave(how, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.saveRetryMillis()),
                FIRST_SAVE_RETRY_MILLIS);
    }

    /**
     * One try of the save (issue 11, rule 1): on failure it is tried again after {@code backoffMillis} (doubling up
     * to {@value #MAX_SAVE_RETRY_MILLIS} ms) until {@code deadline}; the text stays in memory and followers get no
     * terminal event meanwhile (heartbeats keep them connected). Past the deadline the stream ends with an
     * {@code error} of code {@code PERSISTENCE_FAILED} instead of what it was going to say, its text readable while
     * retained, and the saver is told so that it can save it later ({@link Saver#failed}).
     */
    private void attemptSave(End how, long deadline, long backoffMillis) {
        CompletionStage<String> saved;
        try {
            saved = saver.save(this, how);
        } catch (RuntimeException e) {
            saved = CompletableFuture.failedFuture(e);
        }
        saved.whenComplete((messageId, failure) -> {
            if (failure == null) {
                raw = null; // saved with the answer; kept until then, for a retry (or a save after PERSISTENCE_FAILED)
                terminate(messageId);
                return;
            }
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMillis > 0) {
                LOG.log(Level.WARNING, "stream " + id + ": its result could not be saved; trying again in "
                        + Math.min(backoffMillis, leftMillis) + " ms: " + failure);
                try {
                    scheduler.schedule(() -> attemptSave(how, deadline,
                                    Math.min(2 * backoffMillis, MAX_SAVE_RETRY_MILLIS)),
                            Math.min(backoffMillis, leftMillis), TimeUnit.MILLISECONDS);
                    return;
                } catch (RejectedExecutionException shuttingDown) {
                    // no more tries: the node is going away
                }
            }
            LOG.log(Level.SEVERE, "stream " + id + ": its result could not be saved", failure);
            synchronized (this) {
                end = new End(StreamStatus.ERROR, how.messageStatus(), how.reason(), how.finishReason(), how.usage(),
                        how.model(), new UpstreamException(FailureCode.PERSISTENCE_FAILED,
                        "the answer could not be saved; its text is kept and will be saved when the database is back"));
            }
            try {
                saver.failed(this, how);
            } finally {
                terminate(null);
            }
        });
    }

    private void terminate(String saved) {
        End how;
        int contentEnd;
        Runnable told;
        synchronized (this) {
            messageId = saved;
            status = end.status();
            endedAt = Instant.now();
            how = end;
            contentEnd = emittedContent;
            told = onTerminated;
            // a retained stream keeps its text, not its upstream exchange (the HTTP client's buffers and futures)
            generation = null;
            onTerminated = () -> { };
        }
        log.terminate(new StreamEntry.Ended(how, saved, contentEnd));
        log.compact(CompactStreamLog::of);
        told.run();
    }

    private void armGrace(long delayMillis) {
        graceTimer = scheduler.schedule(this::checkGrace, delayMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * The duration limit ran out: cancels the upstream request and ends the stream with {@code STREAM_TIMEOUT}, its
     * text so far saved as {@code partial}.
     */
    private void timeUp() {
        Generation g;
        synchronized (this) {
            deadline = null;
            if (ending) {
                return;
            }
            g = generation;
            long seconds = TimeUnit.MILLISECONDS.toSeconds(settings.maxMillis());
            UpstreamException failure = new UpstreamException(FailureCode.STREAM_TIMEOUT,
                    "the generation ran longer than the limit of " + seconds + " s");
            finish(new End(StreamStatus.ERROR, MessageStatus.PARTIAL, failure.code().name(), null, null, model,
                    failure));
        }
        if (g != null) {
            g.cancel();
        }
        save();
    }

    private void checkGrace() {
        synchronized (this) {
            graceTimer = null;
            if (ending) {
                return;
            }
            long left = log.graceLeftMillis();
            if (left > 0) {
                armGrace(left);
                return;
            }
        }
        stop(Reason.CLIENT_DISCONNECTED, MessageStatus.PARTIAL);
    }

    /** Integer value of a usage field, or {@code null}. */
    public static Integer usageInt(JsonObject usage, String key) {
        if (usage != null && usage.get(key) instanceof JsonNumber n) {
            return n.intValue();
        }
        return null;
    }
}
