package io.sluice.streams.control;

import io.sluice.platform.control.Ids;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.operations.control.StreamMetrics;
import io.sluice.problems.control.ProblemException;
import io.sluice.providers.control.ChatProvider;
import io.sluice.providers.control.CompletionRequest;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The streams of this node (API.md section 3): creates them, finds them for their owner, and keeps ended
 * ones replayable for the retention period ({@code SLUICE_STREAM_RETENTION_SECONDS}, default 10 minutes),
 * after which their state comes from the database.
 *
 * <p>Memory is bounded per stream ({@code SLUICE_STREAM_MAX_CHARS}) and per node: at most
 * {@code SLUICE_MAX_STREAMS} streams are held (default 20000). When a new stream would exceed it, ended
 * streams are evicted oldest first; if all are running, the new one is refused (429). An owner may run at
 * most {@code SLUICE_MAX_STREAMS_PER_OWNER} streams at once (default 16).
 */
@ApplicationScoped
public class StreamHub {

    private static final Logger LOG = Logger.getLogger(StreamHub.class.getName());

    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    StreamRecords records;
    @Inject
    StreamMetrics metrics;

    private final ConcurrentHashMap<String, Stream> streams = new ConcurrentHashMap<>();
    /** Running streams by owner: admission and listing cost O(the owner's streams), not O(the node's). */
    private final ConcurrentHashMap<String, Set<Stream>> runningByOwner = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();
    /** Ended streams in the order they ended: eviction takes from the head, in O(1). */
    private final ConcurrentLinkedQueue<Stream> ended = new ConcurrentLinkedQueue<>();

    /**
     * Creates a stream, records it, and starts its generation with {@code provider} on the
     * stream executor. Its first event is {@code stream} with {@code first} as data plus {@code streamId} and
     * {@code type}.
     *
     * @param conversationId for chat streams, else {@code null}
     * @throws ProblemException 429 when the owner or the node runs too many streams
     */
    public Stream start(String owner, StreamType type, String relatedId, String conversationId, ChatProvider provider,
                        CompletionRequest request, JsonObject first, Stream.Outcome outcome) {
        makeRoom();
        String id = Ids.newId();
        Stream.Settings settings = new Stream.Settings(config.flushMillis(), config.flushChars(),
                config.maxGenerationChars(), config.resumeGraceMillis());
        Stream stream = new Stream(id, type, relatedId, owner, conversationId, request.model(), executors.work(),
                executors.timers(), settings, outcome);
        admit(stream);
        try {
            records.started(stream);
        } catch (RuntimeException e) {
            release(stream);
            throw e;
        }
        streams.put(id, stream);
        JsonObject firstEvent = JSON.createObjectBuilder(first)
                .add("streamId", id).add("type", type.wire()).build();
        StreamMetrics.Probe probe = metrics.streamStarted(type, provider.name()); // metrics: stream started
        executors.work().execute(() -> stream.start(firstEvent, () -> provider.stream(request, probe.listening(stream)),
                () -> {
                    terminated(stream);
                    probe.ended(stream.end(), stream.durationMs()); // metrics: stream ended (type/status/code/route)
                }));
        return stream;
    }

    /**
     * Refuses early, before a request changes anything, when the owner or the node could not start one more
     * stream; {@link #start} checks again atomically.
     *
     * @throws ProblemException 429
     */
    public void ensureRoomFor(String owner) {
        Set<Stream> mine = runningByOwner.get(owner);
        if (mine != null && mine.size() >= config.maxStreamsPerOwner()) {
            throw new ProblemException(429, "too-many-streams",
                    "at most " + config.maxStreamsPerOwner() + " running streams per user", 1L);
        }
        if (running.get() >= config.maxStreams()) {
            throw new ProblemException(429, "too-many-streams", "this node runs its maximum of streams", 5L);
        }
    }

    /** The owner's stream with this id, if this node holds it; someone else's stream is not found. */
    public Optional<Stream> find(String owner, String id) {
        Stream stream = id == null ? null : streams.get(id);
        return stream != null && stream.owner().equals(owner) ? Optional.of(stream) : Optional.empty();
    }

    /**
     * The owner's stream held in memory.
     *
     * @throws ProblemException 404 for unknown ids and other owners' streams; 410 for the owner's stream that
     *                          ended and left memory (its final state stays at {@code GET /api/streams/{id}})
     */
    public Stream require(String owner, String id) {
        return find(owner, id).orElseThrow(() -> records.find(owner, id).isPresent()
                ? new ProblemException(410, "stream-gone", "the stream has ended and is no longer replayable; "
                        + "GET /api/streams/" + id + " has its final state")
                : ProblemException.notFound("stream"));
    }

    /** The owner's running streams, oldest first. */
    public List<Stream> running(String owner) {
        Set<Stream> mine = runningByOwner.get(owner);
        return mine == null ? List.of()
                : mine.stream().sorted(Comparator.comparing(Stream::createdAt)).toList();
    }

    /** Streams running on this node. */
    public int runningCount() {
        return running.get();
    }

    /** Ended streams still replayable from memory. */
    public int retainedCount() {
        return Math.max(0, streams.size() - running.get());
    }

    /**
     * Counts a new stream as running for its owner.
     *
     * @throws ProblemException 429 when the owner already runs the maximum
     */
    private void admit(Stream stream) {
        int max = config.maxStreamsPerOwner();
        boolean[] admitted = {false};
        runningByOwner.compute(stream.owner(), (owner, mine) -> {
            Set<Stream> set = mine != null ? mine : ConcurrentHashMap.newKeySet();
            if (set.size() < max) {
                set.add(stream);
                admitted[0] = true;
            }
            return set.isEmpty() ? null : set;
        });
        if (!admitted[0]) {
            throw new ProblemException(429, "too-many-streams", "at most " + max + " running streams per user", 1L);
        }
        running.incrementAndGet();
    }

    private void release(Stream stream) {
        boolean[] removed = {false};
        runningByOwner.computeIfPresent(stream.owner(), (owner, mine) -> {
            removed[0] = mine.remove(stream);
            return mine.isEmpty() ? null : mine;
        });
        if (removed[0]) {
            running.decrementAndGet();
        }
    }

    /**
     * Keeps the node under {@code SLUICE_MAX_STREAMS} by evicting ended streams, oldest first (they stay
     * readable from the database).
     *
     * @throws ProblemException 429 when every stream held is running
     */
    private void makeRoom() {
        while (streams.size() >= config.maxStreams()) {
            Stream oldest = ended.poll();
            if (oldest == null) {
                throw new ProblemException(429, "too-many-streams", "this node runs its maximum of streams", 5L);
            }
            streams.remove(oldest.id(), oldest);
        }
    }

    private void terminated(Stream stream) {
        release(stream);
        try {
            records.ended(stream);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "stream " + stream.id() + ": its record could not be updated", e);
        }
        ended.add(stream);
        executors.timers().schedule(() -> {
            streams.remove(stream.id(), stream);
            ended.remove(stream);
        }, config.retentionMillis(), TimeUnit.MILLISECONDS);
    }

    /** Server shutdown: running streams are cancelled and their text saved as partial. */
    @PreDestroy
    void shutdown() {
        for (Stream stream : List.copyOf(streams.values())) {
            stream.stop("server_shutdown", "partial");
        }
    }
}
