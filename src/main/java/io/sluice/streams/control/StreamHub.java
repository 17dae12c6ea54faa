package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.entity.StreamRecord;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.platform.control.ShutdownSignal;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The streams of this node (API.md section 3): admits them, starts them, finds them for their owner, saves their
 * results, and keeps ended ones replayable for the retention period ({@code SLUICE_STREAM_RETENTION_SECONDS}, default
 * 10 minutes), after which their state comes from the database.
 *
 * <p><b>Admission.</b> {@link #reserve} runs before a request changes anything: past
 * {@code SLUICE_MAX_RUNNING_STREAMS} running streams the node answers 503 with {@code Retry-After} at once; past
 * {@code SLUICE_MAX_STREAMS_PER_OWNER} (default 16) an owner gets 429, counted across the nodes of a cluster
 * ({@link OwnerQuota}, {@link ClusterPlaces}); while the pools' queues or the saves waiting for the database are full,
 * 503 (issue 21, bounded queues). Memory is bounded per stream
 * ({@code SLUICE_STREAM_MAX_CHARS}) and per node: at most {@code SLUICE_MAX_STREAMS} streams are held (default
 * 20000); ended ones are evicted oldest first to make room, and when all are running a new one gets 503.
 *
 * <p><b>Saving.</b> A stream's result and the end of its record are one write of the {@link GroupCommit}, so they
 * commit together, with other streams' saves.
 *
 * <p><b>Shutdown.</b> Before the application's beans are destroyed (undeploy, SIGTERM), every running stream is
 * stopped and saved as {@code partial} ({@code server_shutdown}), and the hub waits (at most 10 s) until their
 * followers have been given the terminal event.
 */
@ApplicationScoped
public class StreamHub {

    private static final Logger LOG = Logger.getLogger(StreamHub.class.getName());
    /** Longest wait at shutdown for the running streams to be saved and ended, in ms. */
    static final long SHUTDOWN_WAIT_MILLIS = 10_000;
    /**
     * In a cluster, how long a request waits for a stream that another node has recorded but not yet copied to Redis
     * (it started a moment ago), in ms.
     */
    static final long START_WAIT_MILLIS = 2_000;
    /** How often a result that could not be saved is tried again after its stream ended, in ms. */
    static final long RECOVERY_MILLIS = 30_000;

    /** Saves the result of a stream that ended, inside the group-commit transaction. */
    public interface Outcome {
        /**
         * Runs once, in a transaction of the {@link GroupCommit} (it may run again if that transaction is rolled back).
         *
         * @return the id of the saved message, or {@code null} where none is saved
         */
        String save(Stream stream, Stream.End end);

        /** Saves nothing. */
        Outcome NONE = (stream, end) -> null;
    }

    /**
     * A place for one running stream, taken by {@link #reserve} before a request changes anything and given to
     * {@link #start}; {@link #release()} gives it back when the stream does not start after all.
     */
    public final class Slot {
        private final String owner;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Slot(String owner) {
            this.owner = owner;
        }

        public String owner() {
            return owner;
        }

        /** Gives the place back (the request failed before its stream started). Idempotent. */
        public void release() {
            if (open.compareAndSet(true, false)) {
                unreserve(owner);
            }
        }

        private void use() {
            if (!open.compareAndSet(true, false)) {
                throw new IllegalStateException("a slot starts one stream");
            }
        }
    }

    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    StreamRecords records;
    @Inject
    GroupCommit commits;
    @Inject
    StreamObserver metrics;
    @Inject
    StreamTransport transport;

    private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();
    /** Running streams by owner: listing costs O(the owner's streams), not O(the node's). */
    private final ConcurrentHashMap<String, Set<Stream>> runningByOwner = new ConcurrentHashMap<>();
    /** Places taken per owner (reserved and running): the per-owner cap, across the nodes of a cluster. */
    private OwnerQuota perOwner;
    /** Places taken on the node: the admission limit. */
    private final AtomicInteger places = new AtomicInteger();
    /** Ended streams in the order they ended: eviction takes from the head, in O(1). */
    private final ConcurrentLinkedQueue<Stream> ended = new ConcurrentLinkedQueue<>();
    private final AtomicInteger retained = new AtomicInteger();
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private final CountDownLatch shutDown = new CountDownLatch(1);
    private final AtomicInteger unsaved = new AtomicInteger();
    private FlushTicker ticker;

    @PostConstruct
    void init() {
        ticker = new FlushTicker(executors.timers(), FlushTicker.periodFor(config.flushMillis()));
        perOwner = transport.quota(ClusterPlaces.STREAM_PLACES, config::maxStreamsPerOwner);
        transport.start(id -> Optional.ofNullable(streams.get(id)));
    }

    /**
     * Takes a place for one more running stream of {@code owner}; call it before a request changes anything.
     *
     * @throws ProblemException 503 ({@code Retry-After}) when the node runs its maximum of streams, is shutting
     *                          down, or its queues are full (the pools', {@link ManagedExecutors#ensureRoom()}; the
     *                          results waiting for the database, {@code SLUICE_SAVE_QUEUE_MAX}); 429 when the owner
     *                          runs its maximum
     */
    public Slot reserve(String owner) {
        if (shuttingDown.get()) {
            throw new ProblemException(503, "unavailable", "the server is shutting down", 5L);
        }
        executors.ensureRoom();
        if (commits.pending() + unsaved.get() >= config.saveQueueMax()) {
            throw new ProblemException(503, "overloaded", "this node's saves are waiting for the database; "
                    + "try again shortly", 5L);
        }
        makeRoom();
        int max = config.maxRunningStreams();
        if (places.incrementAndGet() > max) {
            places.decrementAndGet();
            throw new ProblemException(503, "overloaded", "this node runs its maximum of " + max
                    + " streams; try again shortly", 2L);
        }
        if (!perOwner.tryOpen(owner)) {
            places.decrementAndGet();
            throw new ProblemException(429, "too-many-streams", "at most " + perOwner.max()
                    + " running streams per user", 1L);
        }
        return new Slot(owner);
    }

    /**
     * Refuses early, without taking a place, when the owner or the node could not start one more stream now (a
     * multi-agent run checks this before it saves anything; its agents' streams reserve their places as they start).
     *
     * @throws ProblemException 503 or 429, as {@link #reserve}
     */
    public void ensureRoomFor(String owner) {
        reserve(owner).release();
    }

    /**
     * Starts a stream in a reserved place: registers it, records it (unless the caller did, in its own transaction),
     * and starts its generation on the work pool. Its first event is {@code stream} with {@code first} as data plus
     * {@code streamId} and {@code type}.
     *
     * @param generate starts the generation, telling the given listener (the stream)
     * @param recorded whether the stream's record was written already (a chat turn writes it with its user message)
     */
    public Stream start(Slot slot, StreamSpec spec, Function<GenerationListener, Generation> generate, JsonObject first,
                        Outcome outcome, boolean recorded) {
        return start(slot, spec, generate, first, outcome, recorded, null);
    }

    /**
     * Starts a stream whose upstream request started before it, as {@link #start(Slot, StreamSpec, Function,
     * JsonObject, Outcome, boolean)} does.
     *
     * @param raw the raw record that request writes to, kept with the answer; {@code null} for one made here
     */
    public Stream start(Slot slot, StreamSpec spec, Function<GenerationListener, Generation> generate, JsonObject first,
                        Outcome outcome, boolean recorded, RawCapture raw) {
        slot.use();
        String owner = slot.owner();
        // a raw record only where the result is a message that keeps it (chat answers, agents' messages)
        int rawMaxBytes = spec.type() == StreamType.CHAT || spec.type() == StreamType.AGENT ? config.rawMaxBytes() : 0;
        Stream.Settings settings = new Stream.Settings(config.flushMillis(), config.flushChars(),
                config.maxGenerationChars(), config.streamMaxMillis(), config.saveRetryMillis(), rawMaxBytes);
        LocalStream stream = new LocalStream(spec.id(), spec.type(), spec.relatedId(), owner, spec.conversationId(),
                spec.model(), transport.streamLog(spec, owner, config.resumeGraceMillis()), executors.timers(), ticker,
                settings,
                new Stream.Saver() {
                    @Override
                    public CompletionStage<String> save(Stream s, Stream.End end) {
                        return StreamHub.this.save(s, end, outcome);
                    }

                    @Override
                    public void failed(Stream s, Stream.End end) {
                        recover(s, end, outcome);
                    }
                }, raw);
        runningByOwner.computeIfAbsent(owner, o -> ConcurrentHashMap.newKeySet()).add(stream);
        streams.put(spec.id(), stream);
        if (!recorded) {
            Instant createdAt = stream.createdAt();
            commits.submit(() -> {
                records.started(spec, owner, createdAt);
                return null;
            }).exceptionally(e -> {
                LOG.log(Level.WARNING, "stream " + spec.id() + ": its record could not be written", e);
                return null;
            });
        }
        JsonObject firstEvent = JSON.createObjectBuilder(first).add("streamId", spec.id())
                .add("type", spec.type().wire()).build();
        StreamObserver.Watch probe = metrics.streamStarted(spec.type(), spec.route()); // metrics: stream started
        Runnable begin = () -> stream.start(firstEvent, () -> generate.apply(probe.listening(stream)),
                () -> {
                    terminated(stream);
                    probe.ended(stream.end(), stream.durationMs()); // metrics: stream ended (type/status/code/route)
                });
        try {
            executors.work().execute(begin);
        } catch (RejectedExecutionException full) {
            begin.run(); // the work queue is full (past admission) or stopping: the admitted stream starts here
        }
        return stream;
    }

    /** {@link #reserve} and {@link #start} in one, for streams whose record nobody else writes. */
    public Stream start(String owner, StreamSpec spec, Function<GenerationListener, Generation> generate,
                        JsonObject first, Outcome outcome) {
        return start(reserve(owner), spec, generate, first, outcome, false);
    }

    /**
     * The owner's stream with this id, if this node holds it or, in a cluster, another node generates it (then a
     * {@linkplain Stream#mirror mirror}, read from Redis); someone else's stream is not found.
     *
     * @throws ProblemException 503 when the cluster's Redis does not answer
     */
    public Optional<Stream> find(String owner, String id) {
        Stream stream = id == null ? null : streams.get(id);
        if (stream != null) {
            return stream.owner().equals(owner) ? Optional.of(stream) : Optional.empty();
        }
        return transport.find(owner, id);
    }

    /**
     * The owner's stream held in memory, or in a cluster its mirror; a stream recorded but not yet copied to Redis
     * (another node started it a moment ago) is waited for, at most {@value #START_WAIT_MILLIS} ms.
     *
     * @throws ProblemException 404 for unknown ids and other owners' streams; 410 for the owner's stream that ended
     *                          and left memory (its final state stays at {@code GET /api/streams/{id}})
     */
    public Stream require(String owner, String id) {
        Optional<Stream> found = find(owner, id);
        if (found.isPresent()) {
            return found.get();
        }
        Optional<StreamRecord> record = records.find(owner, id);
        if (record.isEmpty()) {
            throw ProblemException.notFound("stream");
        }
        if (record.get().getEndedAt() == null) {
            // in a cluster, a stream that another node started a moment ago: its first entry may not be in Redis yet
            found = transport.await(owner, id, START_WAIT_MILLIS);
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw new ProblemException(410, "stream-gone", "the stream has ended and is no longer replayable; "
                + "GET /api/streams/" + id + " has its final state");
    }

    /**
     * The owner's running streams, oldest first, summarized (no text): this node's and, in a cluster, the other nodes'
     * ({@link StreamTransport#running}: from their meta and last entry in Redis, no mirror made).
     *
     * @throws ProblemException 503 when the cluster's Redis does not answer
     */
    public List<StreamSummary> running(String owner) {
        Set<Stream> mine = runningByOwner.get(owner);
        List<StreamSummary> all = new ArrayList<>(transport.running(owner));
        if (mine != null) {
            for (Stream stream : mine) {
                all.add(StreamSummary.of(stream));
            }
        }
        all.sort(Comparator.comparing(StreamSummary::createdAt));
        return all;
    }

    /** Streams running on this node (and places reserved for streams about to start). */
    public int runningCount() {
        return places.get();
    }

    /** Ended streams still replayable from memory. */
    public int retainedCount() {
        return retained.get();
    }

    /** The result, and the end of the record, in one group-committed write. */
    private CompletionStage<String> save(Stream stream, Stream.End end, Outcome outcome) {
        String content = stream.type() == StreamType.CHAT || stream.type() == StreamType.AGENT ? null
                : stream.content();
        return commits.submit(() -> {
            String messageId = outcome.save(stream, end);
            records.ended(stream.id(), end.status(), end.reason(), messageId, content, Instant.now());
            return messageId;
        });
    }

    /**
     * A save that failed for good (the stream told {@code PERSISTENCE_FAILED}) is tried again every
     * {@value #RECOVERY_MILLIS} ms while the node runs, so the answer is written once the database is back (issue 11,
     * rule 1). The stream, and so its text, is held until then. These results are bounded with the group commit's
     * queue: while both hold {@code SLUICE_SAVE_QUEUE_MAX}, {@link #reserve} admits no new stream.
     */
    private void recover(Stream stream, Stream.End end, Outcome outcome) {
        unsaved.incrementAndGet();
        try {
            executors.timers().schedule(() -> save(stream, end, outcome).whenComplete((messageId, failure) -> {
                unsaved.decrementAndGet();
                if (failure == null) {
                    LOG.info(() -> "stream " + stream.id() + ": its result was saved after all");
                } else if (shuttingDown.get()) {
                    LOG.severe(() -> "stream " + stream.id() + ": its result was never saved: the node stopped first");
                } else {
                    recover(stream, end, outcome);
                }
            }), RECOVERY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            unsaved.decrementAndGet();
            LOG.severe(() -> "stream " + stream.id() + ": its result was never saved: the node stopped first");
        }
    }

    /** Results of ended streams waiting for the database to be saved (issue 11, rule 1). */
    public int unsavedCount() {
        return unsaved.get();
    }

    private void unreserve(String owner) {
        perOwner.close(owner);
        places.decrementAndGet();
    }

    /**
     * Keeps the node under {@code SLUICE_MAX_STREAMS} held streams by evicting ended ones, oldest first (they stay
     * readable from the database).
     *
     * @throws ProblemException 503 when every stream held is running
     */
    private void makeRoom() {
        while (streams.size() >= config.maxStreams()) {
            Stream oldest = ended.poll();
            if (oldest == null) {
                throw new ProblemException(503, "overloaded", "this node holds its maximum of streams", 5L);
            }
            retained.decrementAndGet();
            streams.remove(oldest.id(), oldest);
        }
    }

    private void terminated(Stream stream) {
        runningByOwner.computeIfPresent(stream.owner(), (owner, mine) -> {
            mine.remove(stream);
            return mine.isEmpty() ? null : mine;
        });
        unreserve(stream.owner());
        ended.add(stream);
        retained.incrementAndGet();
        try {
            executors.timers().schedule(() -> {
                streams.remove(stream.id(), stream);
                if (ended.remove(stream)) {
                    retained.decrementAndGet();
                }
            }, config.retentionMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // the node is going away: nothing to retain
        }
    }

    /**
     * Undeploy or SIGTERM, before any application bean is destroyed: stops every running stream (its upstream request
     * is cancelled, its text saved as {@code partial}, {@code server_shutdown}) and waits until all are saved and
     * ended and their followers have written the terminal event, at most {@value #SHUTDOWN_WAIT_MILLIS} ms.
     */
    void beforeShutdown(@Observes @BeforeDestroyed(ApplicationScoped.class) Object event) {
        shutdown();
    }

    /** SIGTERM: the same, at once, while the followers' connections are still open ({@link ShutdownSignal}). */
    void onStopping(@Observes @Priority(2000) ShutdownSignal.Stopping event) {
        shutdown();
    }

    /** Stops and saves the running streams; idempotent: a second caller waits until the first is done. */
    @PreDestroy
    public void shutdown() {
        if (!shuttingDown.compareAndSet(false, true)) {
            try {
                shutDown.await(SHUTDOWN_WAIT_MILLIS + 1000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            stopAndSave();
        } finally {
            shutDown.countDown();
        }
    }

    private void stopAndSave() {
        List<Stream> running = streams.values().stream().filter(s -> !s.terminated()).toList();
        for (Stream stream : running) {
            try {
                stream.stop(Reason.SERVER_SHUTDOWN, MessageStatus.PARTIAL);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "stream " + stream.id() + " could not be stopped", e);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SHUTDOWN_WAIT_MILLIS);
        for (Stream stream : running) {
            while ((!stream.terminated() || stream.followerCount() > 0) && System.nanoTime() - deadline < 0) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        ticker.stop();
        if (!running.isEmpty()) {
            LOG.info(() -> running.size() + " running streams were saved as partial (server_shutdown)");
        }
    }
}
