package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The streams of a cluster (issue 10): with {@code SLUICE_REDIS_URL} set, every stream's log is copied to Redis as it
 * grows, so any node serves any stream; without it, {@link #enabled()} is false and nothing here runs.
 *
 * <p><b>In Redis</b> (keys carry the stream id as a hash tag, so one stream's keys live on one Redis Cluster slot):
 * <ul>
 *   <li>{@code sluice:log:{id}}: a Redis Stream, one entry per log entry, entry id {@code n-0} for event id
 *       {@code n} (so {@code Last-Event-ID: n} reads from {@code n+1-0}), field {@code e} the {@link EntryCodec}
 *       JSON;</li>
 *   <li>{@code sluice:meta:{id}}: a hash with the stream's owner, type, related id, conversation, model, creation
 *       time (epoch ms) and generating node;</li>
 *   <li>{@code sluice:running:<owner>}: a sorted set of the owner's running stream ids, scored by creation time;</li>
 *   <li>channel {@code sluice:news:{id}}: the id of each entry appended, for the nodes that follow the stream;</li>
 *   <li>channel {@code sluice:node:<node>}: control for the generating node: {@code {"op":"stop","id","owner",
 *       "reason","status"}}, {@code {"op":"unload","id","owner","graceMillis"}}, {@code {"op":"attend","ids":[...]}}.
 *       </li>
 * </ul>
 * The log and meta keys expire {@code SLUICE_STREAM_RETENTION_SECONDS} after the stream ended, and at the latest
 * {@value #RUNNING_TTL_SECONDS} s after their last write while it runs.
 *
 * <p><b>Writes</b> are the node's log appends, at the coalescing interval ({@code SLUICE_STREAM_FLUSH_MS}, 50 ms):
 * each is an {@code XADD} and a {@code PUBLISH}, issued without waiting on the one shared, pipelined connection. So
 * what a crash can lose is what was not yet appended (at most the coalescing interval) plus the commands in flight.
 *
 * <p><b>Mirrors.</b> A node asked for a stream it does not generate reads the stream's meta and log from Redis into
 * a {@link Stream#mirror mirror}, then follows the news channel: each notice makes it read the entries after the
 * last it has ({@code XRANGE}, at most {@value #BATCH} at a time, one read in flight per mirror). No thread waits per
 * follower or per mirror. Its followers are ordinary followers of the mirror. Stop, unload abort and attention go
 * to the generating node's channel; every second each node tells the generating nodes which of their streams it
 * has followers for, so their resume grace counts followers on all nodes. A mirror nobody followed for
 * {@value #IDLE_MIRROR_MILLIS} ms is dropped. A gap in what a mirror reads (Redis lost the stream's entries, say in
 * a restart without persistence, before the generating node copied its log again: see {@link ReplicatedEventLog})
 * ends the mirror with an {@code error} of code {@code NODE_LOST}; the generating node goes on and saves the answer,
 * and a client that resumes gets a new mirror.
 *
 * <p><b>Multi-agent runs</b> use the same keys and channels for their rendered frames ({@link #replicated},
 * {@link #follow}); their control operations ({@code run_stop}) are registered by the agents' code
 * ({@link #onControl}).
 *
 * <p><b>Caps</b> across nodes: {@link ClusterPlaces}.
 *
 * <p><b>Leases and takeover</b> (crash survival): {@link NodeLeases}.
 */
@ApplicationScoped
public class StreamCluster {

    private static final Logger LOG = Logger.getLogger(StreamCluster.class.getName());
    /** Entries read from Redis at a time. */
    static final int BATCH = 512;
    /** Longest life of a running stream's keys after their last write, in s (refreshed as the stream grows). */
    static final long RUNNING_TTL_SECONDS = 3_600;
    /** Appends between two refreshes of a running stream's expiry. */
    static final int REFRESH_EVERY = 256;
    /** A mirror without followers for this long is dropped, in ms. */
    static final long IDLE_MIRROR_MILLIS = 30_000;
    /** How often the followers on this node are reported to the generating nodes, in ms. */
    static final long ATTEND_MILLIS = 1_000;
    /**
     * A meta field of a log that is not a stream's (a run's frames): a JSON object, without {@code sequence}, that a
     * node taking over the log's lost writer appends as the log's last entry, with {@code "sequence":<next id>}.
     */
    public static final String LOST_END = "lostEnd";

    @Inject
    Redis redis;
    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    NodeLeases leases;

    private final ConcurrentHashMap<String, Mirror> mirrors = new ConcurrentHashMap<>();
    /** Control operations handled elsewhere (a multi-agent run's), by {@code op}. */
    private final ConcurrentHashMap<String, Consumer<JsonObject>> handlers = new ConcurrentHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Function<String, Optional<Stream>> local = id -> Optional.empty();

    /** Whether the node is part of a cluster ({@code SLUICE_REDIS_URL} is set). */
    public boolean enabled() {
        return redis.enabled();
    }

    static String logKey(String id) {
        return "sluice:log:{" + id + "}";
    }

    static String metaKey(String id) {
        return "sluice:meta:{" + id + "}";
    }

    static String runningKey(String owner) {
        return "sluice:running:" + owner;
    }

    static String newsChannel(String id) {
        return "sluice:news:{" + id + "}";
    }

    static String nodeChannel(String node) {
        return "sluice:node:" + node;
    }

    static String leaseKey(String node) {
        return "sluice:alive:" + node;
    }

    static String takeoverKey(String node) {
        return "sluice:takeover:" + node;
    }

    /**
     * Starts serving the cluster: this node's control channel, the attention reports and the idle-mirror sweep. Does
     * nothing without Redis or when started already; while Redis cannot be reached it tries again every 5 s.
     *
     * @param localStreams finds a stream generated on this node by id
     */
    public void start(Function<String, Optional<Stream>> localStreams) {
        if (!enabled() || !started.compareAndSet(false, true)) {
            return;
        }
        local = localStreams;
        leases.start();
        subscribeControl();
        executors.timers().scheduleWithFixedDelay(this::tick, ATTEND_MILLIS, ATTEND_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void subscribeControl() {
        try {
            redis.subscribe(nodeChannel(redis.nodeId()), this::control);
        } catch (IllegalStateException e) {
            LOG.warning(() -> "the cluster's control channel is not subscribed yet (" + e.getMessage()
                    + "); trying again in 5 s");
            try {
                executors.timers().schedule(this::subscribeControl, 5, TimeUnit.SECONDS);
            } catch (RejectedExecutionException stopping) {
                // the node is going away
            }
        }
    }

    // --- the generating node

    /**
     * The log for a new stream generated on this node: in memory, and copied to Redis when the node is part of a
     * cluster.
     *
     * @param graceMillis the resume grace period, in ms
     */
    public EventLog<StreamEntry> logFor(StreamSpec spec, String owner, long graceMillis) {
        MemoryEventLog<StreamEntry> memory = new MemoryEventLog<>(graceMillis);
        if (!enabled()) {
            return memory;
        }
        Map<String, String> meta = new HashMap<>();
        meta.put("type", spec.type().wire());
        if (spec.relatedId() != null) {
            meta.put("relatedId", spec.relatedId());
        }
        if (spec.conversationId() != null) {
            meta.put("conversationId", spec.conversationId());
        }
        if (spec.model() != null) {
            meta.put("model", spec.model());
        }
        return new ReplicatedEventLog<>(memory, new Publisher<>(spec.id(), owner, meta, true,
                (n, entry) -> EntryCodec.encode(entry)));
    }

    /**
     * {@code log}, copied to Redis as it grows when the node is part of a cluster (a multi-agent run's frames): the
     * keys of the class comment under {@code id}, each entry's value from {@code encoder} (given its id).
     *
     * @param meta what the meta hash holds besides {@code owner}, {@code node} and {@code createdAt}
     */
    public <E> EventLog<E> replicated(EventLog<E> log, String id, String owner, Map<String, String> meta,
                                      BiFunction<Long, E, String> encoder) {
        return enabled() ? new ReplicatedEventLog<>(log, new Publisher<>(id, owner, meta, false, encoder)) : log;
    }

    /** Copies one log to Redis; see the class comment for the keys. */
    private final class Publisher<E> implements ReplicatedEventLog.Replica<E> {
        private final String id;
        private final String owner;
        private final Map<String, String> meta;
        private final boolean listed;
        private final BiFunction<Long, E, String> encoder;
        private final String logKey;
        private final String news;
        private boolean failed;
        /** A write failed since the last full copy: the next append copies the whole log again (Redis restarted). */
        private volatile boolean lost;

        /** @param listed whether the id goes into the owner's running streams while it runs */
        Publisher(String id, String owner, Map<String, String> meta, boolean listed,
                  BiFunction<Long, E, String> encoder) {
            this.id = id;
            this.owner = owner;
            this.meta = meta;
            this.listed = listed;
            this.encoder = encoder;
            this.logKey = logKey(id);
            this.news = newsChannel(id);
        }

        /** After an outage, once Redis is connected again: the whole log again, and its meta. */
        @Override
        public boolean wantsAll() {
            if (lost && redis.connected()) {
                lost = false;
                rewriteMeta = true;
                synchronized (this) {
                    failed = false;
                }
                LOG.info(() -> "log " + id + ": copied to Redis again after an outage");
                return true;
            }
            return false;
        }

        private boolean rewriteMeta;

        @Override
        public void appended(long n, E entry, boolean last) {
            RedisAsyncCommands<String, String> redisCommands;
            try {
                redisCommands = redis.commands();
            } catch (IllegalStateException e) {
                failed("Redis cannot be reached", e);
                return;
            }
            try {
                String metaKey = metaKey(id);
                if (n == 1 || rewriteMeta) {
                    rewriteMeta = false;
                    Map<String, String> all = new HashMap<>(meta);
                    all.put("owner", owner);
                    all.put("node", redis.nodeId());
                    all.put("createdAt", Long.toString(System.currentTimeMillis()));
                    redisCommands.hset(metaKey, all).whenComplete(this::check);
                    if (listed) {
                        redisCommands.zadd(runningKey(owner), System.currentTimeMillis(), id).whenComplete(this::check);
                    }
                }
                redisCommands.xadd(logKey, new XAddArgs().id(n + "-0"), Map.of("e", encoder.apply(n, entry)))
                        .whenComplete(this::check);
                redisCommands.publish(news, Long.toString(n)).whenComplete(this::check);
                if (last) {
                    long retention = retentionSeconds();
                    redisCommands.expire(logKey, retention).whenComplete(this::check);
                    redisCommands.expire(metaKey, retention).whenComplete(this::check);
                    if (listed) {
                        redisCommands.zrem(runningKey(owner), id).whenComplete(this::check);
                    }
                } else if (n % REFRESH_EVERY == 1) {
                    redisCommands.expire(logKey, RUNNING_TTL_SECONDS).whenComplete(this::check);
                    redisCommands.expire(metaKey, RUNNING_TTL_SECONDS).whenComplete(this::check);
                    if (listed) {
                        redisCommands.expire(runningKey(owner), RUNNING_TTL_SECONDS).whenComplete(this::check);
                    }
                }
            } catch (RuntimeException e) {
                failed("a write to Redis failed", e);
            }
        }

        private void check(Object result, Throwable failure) {
            if (failure != null && !idTaken(failure)) {
                failed("a write to Redis failed", failure);
            }
        }

        /**
         * Marks the copy as missing entries, so that the next append copies the whole log again; logs the first
         * failure of an outage only: the stream goes on here regardless.
         */
        private void failed(String what, Throwable e) {
            lost = true;
            synchronized (this) {
                if (failed) {
                    return;
                }
                failed = true;
            }
            LOG.warning(() -> "log " + id + ": " + what + " (" + e.getMessage()
                    + "); the stream goes on on this node, other nodes may not follow it to its end");
        }
    }

    /** A control message for a stream generated here; runs off the Redis I/O thread. */
    private void control(String message) {
        JsonObject m;
        try {
            m = JSON.createReader(new StringReader(message)).readObject();
        } catch (RuntimeException e) {
            LOG.warning("a control message that is not JSON was ignored");
            return;
        }
        try {
            executors.work().execute(() -> {
                try {
                    handle(m);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a control message could not be handled: " + message, e);
                }
            });
        } catch (RejectedExecutionException stopping) {
            // the node is going away: its streams are being stopped anyway
        }
    }

    private void handle(JsonObject m) {
        String op = m.getString("op", "");
        Consumer<JsonObject> other = handlers.get(op);
        if ("attend".equals(op)) {
            for (JsonValue v : m.getJsonArray("ids")) {
                if (v instanceof JsonString id) {
                    local.apply(id.getString()).ifPresent(Stream::attended);
                }
            }
            if (other != null) {
                other.accept(m);
            }
            return;
        }
        if (!"stop".equals(op) && !"unload".equals(op)) {
            if (other != null) {
                other.accept(m);
            } else {
                LOG.warning(() -> "an unknown control operation was ignored: " + op);
            }
            return;
        }
        Optional<Stream> target = local.apply(m.getString("id", ""))
                .filter(s -> s.owner().equals(m.getString("owner", null)));
        if (target.isEmpty()) {
            return;
        }
        if ("stop".equals(op)) {
            target.get().stop(m.getString("reason"), MessageStatus.valueOf(m.getString("status")));
        } else {
            target.get().abortOnUnload(m.getJsonNumber("graceMillis").longValue());
        }
    }

    /**
     * Handles control operation {@code op} (other than {@code stop} and {@code unload}, a stream's) sent to this node
     * with {@link #send}; {@code attend} handlers get the ids the streams did not take. Called on the work pool.
     */
    public void onControl(String op, Consumer<JsonObject> handler) {
        handlers.put(op, handler);
    }

    /** Sends a control message ({@code {"op":...}}) to {@code node}, without waiting. */
    public void send(String node, JsonObject message) {
        publish(node, message);
    }

    // --- the following node

    /**
     * What a node follows of another node's log in Redis (issue 10): a stream's {@linkplain Stream#mirror mirror}, a
     * multi-agent run's frames. It is given the log's entries in id order, from 1, without gaps.
     */
    public interface Copy {
        /** Id of the last entry it holds, 0 when none. */
        long lastId();

        /** Whether it holds the last entry. */
        boolean ended();

        /**
         * The value of the next entry.
         *
         * @throws IllegalArgumentException when the value cannot be read
         */
        void apply(String value);

        /** The log cannot be followed on (a gap, an unreadable entry): end it, keeping what it holds. */
        void lost(String why);

        /** Its followers on this node. */
        int followerCount();
    }

    /**
     * The owner's stream {@code id} generated on another node, as a mirror on this one, read from Redis.
     *
     * @return empty without Redis, for an unknown id, another owner's stream, or one this node generates
     * @throws ProblemException 503 when Redis does not answer within {@link Redis#COMMAND_TIMEOUT_MILLIS}
     */
    public Optional<Stream> mirror(String owner, String id) {
        if (!enabled() || id == null) {
            return Optional.empty();
        }
        Mirror known = mirrors.get(id);
        if (known != null) {
            Stream stream = streamOf(known);
            return stream != null && stream.owner().equals(owner) ? Optional.of(stream) : Optional.empty();
        }
        Optional<Map<String, String>> meta = meta(id);
        if (meta.isEmpty() || !owner.equals(meta.get().get("owner")) || redis.nodeId().equals(meta.get().get("node"))
                || StreamType.fromWire(meta.get().get("type")).isEmpty()) {
            return Optional.empty();
        }
        Stream stream = mirrorOf(id, meta.get());
        Copy copy = follow(id, meta.get().get("node"), new StreamCopy(stream));
        return copy instanceof StreamCopy c && c.stream.lastEventId() > 0 ? Optional.of(c.stream) : Optional.empty();
    }

    /**
     * {@link #mirror}, tried every 50 ms for at most {@code waitMillis} while Redis holds nothing of the stream yet
     * (another node recorded it and has not copied its first entry yet); blocks the caller meanwhile.
     *
     * @return empty without Redis, or when nothing came within {@code waitMillis}
     * @throws ProblemException 503 as {@link #mirror}
     */
    public Optional<Stream> awaitMirror(String owner, String id, long waitMillis) {
        if (!enabled()) {
            return Optional.empty();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (true) {
            Optional<Stream> found = mirror(owner, id);
            if (found.isPresent() || System.nanoTime() - deadline >= 0) {
                return found;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    private Stream mirrorOf(String id, Map<String, String> meta) {
        String node = meta.get("node");
        String owner = meta.get("owner");
        return Stream.mirror(id, StreamType.fromWire(meta.get("type")).orElseThrow(), meta.get("relatedId"), owner,
                meta.get("conversationId"), meta.get("model"),
                Instant.ofEpochMilli(Long.parseLong(meta.getOrDefault("createdAt", "0"))),
                new MemoryEventLog<>(config.resumeGraceMillis()), new Forward(node, id, owner));
    }

    private static Stream streamOf(Mirror mirror) {
        return mirror.copy instanceof StreamCopy c ? c.stream : null;
    }

    /**
     * The meta hash of log {@code id} in Redis ({@code owner}, {@code node}, {@code createdAt} and what its writer
     * added).
     *
     * @return empty without Redis, or when Redis holds no such log (unknown, expired)
     * @throws ProblemException 503 when Redis does not answer within {@link Redis#COMMAND_TIMEOUT_MILLIS}
     */
    public Optional<Map<String, String>> meta(String id) {
        if (!enabled() || id == null) {
            return Optional.empty();
        }
        Map<String, String> meta = await(() -> redis.commands().hgetall(metaKey(id)), "log " + id);
        return meta == null || meta.get("owner") == null || meta.get("node") == null ? Optional.empty()
                : Optional.of(meta);
    }

    /**
     * The reply to a Redis command, waited for at most {@link Redis#COMMAND_TIMEOUT_MILLIS}.
     *
     * @param what what is read, for the log
     * @throws ProblemException 503 {@code cluster-unavailable} when Redis cannot be reached or does not answer
     */
    private <T> T await(Supplier<? extends Future<T>> command, String what) {
        try {
            return redis.await(command);
        } catch (IllegalStateException e) {
            LOG.warning(() -> what + " could not be read from Redis: " + e.getMessage());
            throw unavailable();
        }
    }

    /** The event id of a Redis Stream entry id ({@code n-0} holds event {@code n}). */
    static long eventId(String entryId) {
        return Long.parseLong(entryId.substring(0, entryId.indexOf('-')));
    }

    /** Whether a command failed because an {@code XADD} named an id at or below the log's last: the entry is there. */
    static boolean idTaken(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("equal or smaller")) {
                return true;
            }
        }
        return false;
    }

    /** How long an ended log stays in Redis: the retention period, in s, at least 1. */
    long retentionSeconds() {
        return Math.max(1, TimeUnit.MILLISECONDS.toSeconds(config.retentionMillis()));
    }

    /**
     * Follows log {@code id} of {@code node} into {@code copy}: reads what the log holds (waiting at most
     * {@link Redis#COMMAND_TIMEOUT_MILLIS} per read), then follows its news until it ends; a copy nobody follows for
     * {@value #IDLE_MIRROR_MILLIS} ms is dropped.
     *
     * @return the copy this node follows for that log: {@code copy}, or one that another request made first
     * @throws ProblemException 503 when Redis does not answer
     */
    public Copy follow(String id, String node, Copy copy) {
        Mirror known = mirrors.get(id);
        if (known != null) {
            return known.copy;
        }
        Mirror mirror = new Mirror(id, node, copy);
        load(mirror);
        if (copy.lastId() == 0) {
            return copy; // expired between the two reads: nothing to follow
        }
        Mirror raced = mirrors.putIfAbsent(id, mirror);
        if (raced != null) {
            return raced.copy;
        }
        if (!copy.ended()) {
            redis.subscribe(newsChannel(id), notice -> mirror.fetch());
            mirror.fetch(); // what came between the read and the subscription
        }
        return copy;
    }

    /** The copy this node follows for log {@code id}, or {@code null}. */
    public Copy followed(String id) {
        Mirror mirror = mirrors.get(id);
        return mirror == null ? null : mirror.copy;
    }

    /**
     * Reads the log of {@code mirror} from Redis as far as it goes.
     *
     * @throws ProblemException 503 as {@link #await}
     */
    private void load(Mirror mirror) {
        while (true) {
            List<StreamMessage<String, String>> batch = await(() -> redis.commands().xrange(logKey(mirror.id),
                    Range.create((mirror.copy.lastId() + 1) + "-0", "+"), Limit.from(BATCH)), "log " + mirror.id);
            if (!mirror.apply(batch) || batch.size() < BATCH) {
                return;
            }
        }
    }

    /**
     * Reads stream {@code id}'s meta and log from Redis into a new, unregistered mirror (a lost node's stream, for
     * its takeover).
     *
     * @return empty when Redis holds no such stream (unknown, expired)
     * @throws ProblemException 503 as {@link #await}
     */
    Optional<Stream> read(String id) {
        Optional<Map<String, String>> meta = meta(id);
        if (meta.isEmpty() || StreamType.fromWire(meta.get().get("type")).isEmpty()) {
            return Optional.empty();
        }
        Stream stream = mirrorOf(id, meta.get());
        load(new Mirror(id, meta.get().get("node"), new StreamCopy(stream)));
        return stream.lastEventId() == 0 ? Optional.empty() : Optional.of(stream);
    }

    /** A stream's mirror as a {@link Copy}. */
    private static final class StreamCopy implements Copy {
        final Stream stream;

        StreamCopy(Stream stream) {
            this.stream = stream;
        }

        @Override
        public long lastId() {
            return stream.lastEventId();
        }

        @Override
        public boolean ended() {
            return stream.terminated();
        }

        @Override
        public void apply(String value) {
            stream.replicate(EntryCodec.decode(value));
        }

        /** Ends the mirror with {@code NODE_LOST}: what was read is kept; the generating node goes on. */
        @Override
        public void lost(String why) {
            if (stream.terminated()) {
                return;
            }
            UpstreamException failure = new UpstreamException(FailureCode.NODE_LOST,
                    "this node lost the stream's events; reconnect to follow it on");
            stream.replicate(new StreamEntry.Ended(new Stream.End(StreamStatus.ERROR, MessageStatus.PARTIAL,
                    Reason.NODE_LOST.wire(), null, null, stream.model(), failure), null, stream.contentLength()));
        }

        @Override
        public int followerCount() {
            return stream.followerCount();
        }
    }

    private static ProblemException unavailable() {
        return new ProblemException(503, "cluster-unavailable",
                "the stream could not be read from the cluster's Redis; try again shortly", 2L);
    }

    /**
     * The owner's running streams generated on other nodes, summarized: a stream followed here already from its
     * mirror, any other from its meta and the last entry of its log (two reads, whatever the log's length; no mirror
     * is made). Its status is {@code connecting} while that entry is the first, {@code streaming} after a delta, as a
     * mirror's would be; a stream whose log has ended, is empty or expired is left out.
     *
     * @throws ProblemException 503 as {@link #mirror}
     */
    public List<StreamSummary> running(String owner) {
        if (!enabled()) {
            return List.of();
        }
        List<String> ids = await(() -> redis.commands().zrange(runningKey(owner), 0, -1), "the running streams");
        List<StreamSummary> out = new ArrayList<>();
        for (String id : ids) {
            if (local.apply(id).isPresent()) {
                continue;
            }
            Mirror known = mirrors.get(id);
            if (known != null) {
                Stream stream = streamOf(known);
                if (stream != null && stream.owner().equals(owner) && !stream.terminated()) {
                    out.add(StreamSummary.of(stream));
                }
            } else {
                summary(owner, id).ifPresent(out::add);
            }
        }
        return out;
    }

    /**
     * The status of a running stream whose log ends with {@code last}, as a mirror that read the whole log would have
     * it: {@code connecting} after the first entry, {@code streaming} after a delta; empty after the {@code Ended}
     * entry.
     */
    static Optional<StreamStatus> runningStatus(StreamEntry last) {
        if (last instanceof StreamEntry.Ended) {
            return Optional.empty();
        }
        return Optional.of(last instanceof StreamEntry.Delta ? StreamStatus.STREAMING : StreamStatus.CONNECTING);
    }

    /**
     * The summary of the owner's stream {@code id} that another node generates, from its meta and its log's last
     * entry in Redis.
     *
     * @return empty for an unknown id, another owner's stream, one this node generates, or a log that is empty or
     *         has ended
     * @throws ProblemException 503 as {@link #await}
     */
    private Optional<StreamSummary> summary(String owner, String id) {
        Optional<Map<String, String>> found = meta(id);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> meta = found.get();
        Optional<StreamType> type = StreamType.fromWire(meta.get("type"));
        if (!owner.equals(meta.get("owner")) || redis.nodeId().equals(meta.get("node")) || type.isEmpty()) {
            return Optional.empty();
        }
        List<StreamMessage<String, String>> last = await(() -> redis.commands().xrevrange(logKey(id),
                Range.create("-", "+"), Limit.from(1)), "log " + id);
        if (last.isEmpty()) {
            return Optional.empty();
        }
        StreamEntry entry;
        try {
            entry = EntryCodec.decode(last.get(0).getBody().get("e"));
        } catch (RuntimeException e) {
            return Optional.empty(); // a mirror would end as lost: not running
        }
        Optional<StreamStatus> status = runningStatus(entry);
        if (status.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new StreamSummary(id, type.get(), meta.get("relatedId"), meta.get("conversationId"),
                status.get(), eventId(last.get(0).getId()), null, null, meta.get("model"),
                Instant.ofEpochMilli(Long.parseLong(meta.getOrDefault("createdAt", "0"))), null, 0));
    }

    /** Every second: attention for the streams followed here, and the idle mirrors dropped. */
    private void tick() {
        try {
            Map<String, JsonArrayBuilder> byNode = new HashMap<>();
            long now = System.nanoTime();
            for (Mirror mirror : mirrors.values()) {
                if (mirror.copy.followerCount() > 0) {
                    mirror.wantedNanos = now;
                    if (!mirror.copy.ended()) {
                        byNode.computeIfAbsent(mirror.node, n -> JSON.createArrayBuilder()).add(mirror.id);
                    }
                } else if (now - mirror.wantedNanos > TimeUnit.MILLISECONDS.toNanos(IDLE_MIRROR_MILLIS)) {
                    drop(mirror);
                }
            }
            byNode.forEach((node, ids) -> publish(node,
                    JSON.createObjectBuilder().add("op", "attend").add("ids", ids).build()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the cluster's attention report failed", e);
        }
    }

    private void drop(Mirror mirror) {
        if (mirrors.remove(mirror.id, mirror)) {
            redis.unsubscribe(newsChannel(mirror.id));
        }
    }

    private void publish(String node, JsonObject message) {
        try {
            redis.commands().publish(nodeChannel(node), message.toString());
        } catch (IllegalStateException e) {
            LOG.warning(() -> "a control message could not be sent: " + e.getMessage());
        }
    }

    /** A mirror's control, sent to the generating node. */
    private final class Forward implements Stream.Remote {
        private final String node;
        private final String id;
        private final String owner;

        Forward(String node, String id, String owner) {
            this.node = node;
            this.id = id;
            this.owner = owner;
        }

        @Override
        public void stop(String reason, MessageStatus messageStatus) {
            publish(node, JSON.createObjectBuilder().add("op", "stop").add("id", id).add("owner", owner)
                    .add("reason", reason).add("status", messageStatus.name()).build());
        }

        @Override
        public void abortOnUnload(long graceMillis) {
            publish(node, JSON.createObjectBuilder().add("op", "unload").add("id", id).add("owner", owner)
                    .add("graceMillis", graceMillis).build());
        }

        @Override
        public void attended() {
            Mirror mirror = mirrors.get(id);
            if (mirror != null) {
                mirror.wantedNanos = System.nanoTime();
            }
            publish(node, JSON.createObjectBuilder().add("op", "attend")
                    .add("ids", JSON.createArrayBuilder().add(id)).build());
        }
    }

    /** A log of another node followed here (a stream's, a run's), and its reading from Redis. */
    private final class Mirror {
        final String id;
        final String node;
        final Copy copy;
        final AtomicBoolean fetching = new AtomicBoolean();
        volatile boolean again;
        volatile long wantedNanos = System.nanoTime();

        Mirror(String id, String node, Copy copy) {
            this.id = id;
            this.node = node;
            this.copy = copy;
        }

        /** Reads what came after the last entry held; one read in flight, another after it when news came. */
        void fetch() {
            if (copy.ended()) {
                return;
            }
            if (!fetching.compareAndSet(false, true)) {
                again = true;
                return;
            }
            again = false;
            RedisAsyncCommands<String, String> commands;
            try {
                commands = redis.commands();
            } catch (IllegalStateException e) {
                fetching.set(false);
                return;
            }
            commands.xrange(logKey(id), Range.create((copy.lastId() + 1) + "-0", "+"), Limit.from(BATCH))
                    .whenCompleteAsync((batch, failure) -> {
                        boolean more = false;
                        if (failure == null) {
                            more = apply(batch) && batch.size() == BATCH;
                        } else {
                            LOG.fine(() -> "log " + id + ": reading from Redis failed: " + failure);
                        }
                        fetching.set(false);
                        if (more || again) {
                            fetch();
                        }
                    }, executors.timers());
        }

        /**
         * Gives a batch read from Redis to the copy, in order; entries held already are skipped.
         *
         * @return whether the copy can go on (no gap, not ended)
         */
        boolean apply(List<StreamMessage<String, String>> batch) {
            synchronized (this) {
                for (StreamMessage<String, String> message : batch) {
                    long n = eventId(message.getId());
                    long last = copy.lastId();
                    if (copy.ended()) {
                        return false;
                    }
                    if (n <= last) {
                        continue;
                    }
                    if (n != last + 1) {
                        lost("entries " + (last + 1) + " to " + (n - 1) + " are missing in Redis");
                        return false;
                    }
                    try {
                        copy.apply(message.getBody().get("e"));
                    } catch (RuntimeException e) {
                        lost("entry " + n + " could not be read: " + e.getMessage());
                        return false;
                    }
                }
                if (copy.ended()) {
                    redis.unsubscribe(newsChannel(id));
                    return false;
                }
                return true;
            }
        }

        /** Ends the copy (it keeps what it read; the generating node goes on) and forgets it. */
        private void lost(String why) {
            LOG.warning(() -> "log " + id + ": this node cannot follow it on: " + why);
            copy.lost(why);
            redis.unsubscribe(newsChannel(id));
            mirrors.remove(id, this);
        }
    }
}
