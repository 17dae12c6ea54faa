package io.sluice.streams.control;

import static io.sluice.streams.control.StreamCluster.BATCH;
import static io.sluice.streams.control.StreamCluster.eventId;
import static io.sluice.streams.control.StreamCluster.logKey;
import static io.sluice.streams.control.StreamCluster.metaKey;
import static io.sluice.streams.control.StreamCluster.newsChannel;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.ProblemException;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ThrottledWarning;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * The logs of other nodes that this node follows (issue 10), one {@link LogCopy} per log: a stream's
 * {@linkplain Stream#mirror mirror}, a multi-agent run's frames. A copy is filled from the log and meta in Redis, then
 * follows the news channel: each notice makes it read the entries after the last it has ({@code XRANGE}, at most
 * {@value StreamCluster#BATCH} at a time, one read in flight per copy). No thread waits per follower or per copy. A
 * mirror's followers are ordinary followers of it; its stop and unload abort go to the generating node as
 * {@link Control} messages. A gap in what a copy reads (Redis lost the log's entries, say in a restart without
 * persistence, before the generating node copied its log again: see {@link LogPublisher}) ends the copy (a mirror
 * with an {@code error} of code {@code NODE_LOST}); the generating node goes on and saves the answer, and a client
 * that resumes gets a new copy. {@link Attention} tells the generating nodes who follows what; {@link IdleSweep} drops
 * the copies nobody follows.
 */
@ApplicationScoped
public class Mirrors {

    private static final Logger LOG = Logger.getLogger(Mirrors.class.getName());
    /** Once per request that reads Redis while it is down (each answered 503): written once a minute. */
    private static final ThrottledWarning READ_FAILED = new ThrottledWarning(LOG);

    @Inject
    Redis redis;
    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    ControlBus bus;

    private final ConcurrentHashMap<String, Followed<?>> followed = new ConcurrentHashMap<>();

    /**
     * The owner's stream {@code id} generated on another node, as a mirror on this one, read from Redis.
     *
     * @return empty for a {@code null} or unknown id, another owner's stream, or one this node generates
     * @throws ProblemException 503 when Redis does not answer within {@link Redis#COMMAND_TIMEOUT_MILLIS}
     */
    Optional<Stream> mirror(String owner, String id) {
        if (id == null) {
            return Optional.empty();
        }
        Followed<?> known = followed.get(id);
        if (known != null) {
            Stream stream = streamOf(known);
            return stream != null && stream.owner().equals(owner) ? Optional.of(stream) : Optional.empty();
        }
        Optional<Map<String, String>> meta = meta(id);
        if (meta.isEmpty() || !owner.equals(meta.get().get("owner")) || redis.nodeId().equals(meta.get().get("node"))
                || StreamType.fromWire(meta.get().get("type")).isEmpty()) {
            return Optional.empty();
        }
        FollowedStream stream = mirrorOf(id, meta.get());
        LogCopy<?> copy = follow(id, meta.get().get("node"), new StreamCopy(stream));
        return copy instanceof StreamCopy c && c.stream.lastEventId() > 0 ? Optional.of(c.stream) : Optional.empty();
    }

    /**
     * {@link #mirror}, tried every 50 ms for at most {@code waitMillis} while Redis holds nothing of the stream yet
     * (another node recorded it and has not copied its first entry yet); blocks the caller meanwhile.
     *
     * @return empty when nothing came within {@code waitMillis}
     * @throws ProblemException 503 as {@link #mirror}
     */
    Optional<Stream> awaitMirror(String owner, String id, long waitMillis) {
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

    /**
     * Reads stream {@code id}'s meta and log from Redis into a new mirror that nothing follows (a lost node's stream,
     * for its takeover).
     *
     * @return empty when Redis holds no such stream (unknown, expired)
     * @throws ProblemException 503 as {@link #mirror}
     */
    Optional<Stream> read(String id) {
        Optional<Map<String, String>> meta = meta(id);
        if (meta.isEmpty() || StreamType.fromWire(meta.get().get("type")).isEmpty()) {
            return Optional.empty();
        }
        FollowedStream stream = mirrorOf(id, meta.get());
        load(new Followed<>(id, meta.get().get("node"), new StreamCopy(stream)));
        return stream.lastEventId() == 0 ? Optional.empty() : Optional.of(stream);
    }

    /**
     * Follows log {@code id} of {@code node} into {@code copy}: reads what the log holds (waiting at most
     * {@link Redis#COMMAND_TIMEOUT_MILLIS} per read), then follows its news until it ends.
     *
     * @return the copy this node follows for that log: {@code copy}, or one that another request made first
     * @throws ProblemException 503 when Redis does not answer
     */
    LogCopy<?> follow(String id, String node, LogCopy<?> copy) {
        Followed<?> known = followed.get(id);
        if (known != null) {
            return known.copy;
        }
        Followed<?> log = new Followed<>(id, node, copy);
        load(log);
        if (copy.lastId() == 0) {
            return copy; // expired between the two reads: nothing to follow
        }
        Followed<?> raced = followed.putIfAbsent(id, log);
        if (raced != null) {
            return raced.copy;
        }
        if (!copy.ended()) {
            redis.subscribe(newsChannel(id), notice -> log.fetch());
            log.fetch(); // what came between the read and the subscription
        }
        return copy;
    }

    /** The copy this node follows for log {@code id}, or {@code null}. */
    LogCopy<?> followed(String id) {
        Followed<?> log = id == null ? null : followed.get(id);
        return log == null ? null : log.copy;
    }

    /** The stream of the mirror this node follows for {@code id}, or {@code null}. */
    Stream followedStream(String id) {
        Followed<?> log = followed.get(id);
        return log == null ? null : streamOf(log);
    }

    /** Every log followed now, for {@link Attention} and {@link IdleSweep}. */
    Collection<Followed<?>> all() {
        return followed.values();
    }

    /** Stops following {@code log}. */
    void drop(Followed<?> log) {
        if (followed.remove(log.id, log)) {
            redis.unsubscribe(newsChannel(log.id));
        }
    }

    /**
     * The meta hash of log {@code id} in Redis ({@code owner}, {@code node}, {@code createdAt} and what its writer
     * added).
     *
     * @return empty for a {@code null} id, or when Redis holds no such log (unknown, expired)
     * @throws ProblemException 503 when Redis does not answer within {@link Redis#COMMAND_TIMEOUT_MILLIS}
     */
    Optional<Map<String, String>> meta(String id) {
        if (id == null) {
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
    <T> T await(Supplier<? extends Future<T>> command, String what) {
        try {
            return redis.await(command);
        } catch (IllegalStateException e) {
            READ_FAILED.warn(() -> what + " could not be read from Redis: " + e.getMessage());
            throw new ProblemException(503, "cluster-unavailable",
                    "the stream could not be read from the cluster's Redis; try again shortly", 2L);
        }
    }

    /**
     * Reads the log of {@code log} from Redis as far as it goes.
     *
     * @throws ProblemException 503 as {@link #await}
     */
    private void load(Followed<?> log) {
        while (true) {
            List<StreamMessage<String, String>> batch = await(() -> redis.commands().xrange(logKey(log.id),
                    Range.create((log.copy.lastId() + 1) + "-0", "+"), Limit.from(BATCH)), "log " + log.id);
            if (!log.apply(batch) || batch.size() < BATCH) {
                return;
            }
        }
    }

    private FollowedStream mirrorOf(String id, Map<String, String> meta) {
        String node = meta.get("node");
        String owner = meta.get("owner");
        return Stream.mirror(id, StreamType.fromWire(meta.get("type")).orElseThrow(), meta.get("relatedId"), owner,
                meta.get("conversationId"), meta.get("model"),
                Instant.ofEpochMilli(Long.parseLong(meta.getOrDefault("createdAt", "0"))),
                new MemoryEventLog<>(config.resumeGraceMillis()), new Forward(node, id, owner));
    }

    private static Stream streamOf(Followed<?> log) {
        return log.copy instanceof StreamCopy c ? c.stream : null;
    }

    /** A stream's mirror as a {@link LogCopy}. */
    private static final class StreamCopy implements LogCopy<StreamEntry> {
        final FollowedStream stream;

        StreamCopy(FollowedStream stream) {
            this.stream = stream;
        }

        @Override
        public LogCodec<StreamEntry> codec() {
            return EntryCodec.STREAMS;
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
        public void apply(StreamEntry entry) {
            stream.replicate(entry);
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
            bus.send(node, new Control.Stop(id, owner, reason, messageStatus));
        }

        @Override
        public void abortOnUnload(long graceMillis) {
            bus.send(node, new Control.Unload(id, owner, graceMillis));
        }

        @Override
        public void attended() {
            Followed<?> log = followed.get(id);
            if (log != null) {
                log.wantedNanos = System.nanoTime();
            }
            bus.send(node, new Control.Attend(List.of(id)));
        }
    }

    /** A log of another node followed here, and its reading from Redis. */
    final class Followed<E> {
        final String id;
        /** The node that writes the log. */
        final String node;
        final LogCopy<E> copy;
        final AtomicBoolean fetching = new AtomicBoolean();
        volatile boolean again;
        /** When a follower last wanted it ({@link System#nanoTime()}). */
        volatile long wantedNanos = System.nanoTime();

        Followed(String id, String node, LogCopy<E> copy) {
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
                        copy.apply(copy.codec().decode(message.getBody().get("e")));
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
            followed.remove(id, this);
        }
    }
}
