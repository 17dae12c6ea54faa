package io.sluice.streams.control;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
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
 * One generation on this node (API.md section 3): the {@link GenerationListener} its provider tells, writing its
 * {@link Stream}'s log.
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
public final class LocalStream extends Stream implements GenerationListener {

    private static final Logger LOG = Logger.getLogger(LocalStream.class.getName());
    /** The first wait before a failed save is tried again, in ms. */
    static final long FIRST_SAVE_RETRY_MILLIS = 500;
    /** The longest wait between two tries of a failed save, in ms. */
    static final long MAX_SAVE_RETRY_MILLIS = 8_000;

    private final ScheduledExecutorService scheduler;
    private final FlushTicker ticker;
    private final Settings settings;
    private final Saver saver;
    private final DeltaCoalescer coalescer;
    /**
     * The raw record of the upstream response, for the saved answer; {@code null} when none is kept, and once the
     * answer is saved (a retained stream does not hold it).
     */
    private volatile RawCapture raw;

    private boolean ending;
    private int receivedContent;
    private int receivedReasoning;
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
    public LocalStream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                       EventLog<StreamEntry> log, ScheduledExecutorService scheduler, FlushTicker ticker,
                       Settings settings, Saver saver) {
        this(id, type, relatedId, owner, conversationId, model, log, scheduler, ticker, settings, saver, null);
    }

    /**
     * A stream whose upstream request started before it (a chat turn's, overlapping the commit of its user message):
     * the raw record of the response is the one that request already writes to.
     *
     * @param raw the request's raw record, or {@code null} to make one as {@code settings} say
     * @see #LocalStream(String, StreamType, String, String, String, String, EventLog, ScheduledExecutorService,
     *      FlushTicker, Settings, Saver)
     */
    public LocalStream(String id, StreamType type, String relatedId, String owner, String conversationId, String model,
                       EventLog<StreamEntry> log, ScheduledExecutorService scheduler, FlushTicker ticker,
                       Settings settings, Saver saver, RawCapture raw) {
        super(id, type, relatedId, owner, conversationId, model, Instant.now(), log);
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.settings = settings;
        this.saver = saver;
        this.coalescer = new DeltaCoalescer(settings.flushChars(),
                TimeUnit.MILLISECONDS.toNanos(settings.flushMillis()));
        this.raw = raw != null ? raw : settings.rawMaxBytes() > 0 ? new RawCapture(settings.rawMaxBytes()) : null;
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

    @Override
    public boolean stop(String reason, MessageStatus messageStatus) {
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

    @Override
    public void abortOnUnload(long graceMillis) {
        long requested = System.nanoTime();
        unloadAbortNanos = requested;
        scheduler.schedule(() -> {
            if (unloadAbortNanos == requested && !log.attendedAfter(requested)) {
                stop(Reason.UNLOAD, MessageStatus.STOPPED);
            }
        }, graceMillis, TimeUnit.MILLISECONDS);
    }

    /** Time to first token in ms, or {@code null} when no token came. */
    @Override
    public synchronized Long timeToFirstTokenMs() {
        return firstTokenNanos < 0 ? null : TimeUnit.NANOSECONDS.toMillis(firstTokenNanos - startNanos);
    }

    @Override
    public byte[] rawResponse() {
        RawCapture r = raw;
        return r == null ? null : r.encode();
    }

    @Override
    String held(DeltaCoalescer.Kind kind) {
        return coalescer.held(kind);
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
}
