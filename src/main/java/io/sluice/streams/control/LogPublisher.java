package io.sluice.streams.control;

import static io.sluice.streams.control.StreamCluster.REFRESH_EVERY;
import static io.sluice.streams.control.StreamCluster.RUNNING_TTL_SECONDS;
import static io.sluice.streams.control.StreamCluster.entryId;
import static io.sluice.streams.control.StreamCluster.logKey;
import static io.sluice.streams.control.StreamCluster.metaKey;
import static io.sluice.streams.control.StreamCluster.newsChannel;
import static io.sluice.streams.control.StreamCluster.runningKey;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.ThrottledWarning;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Copies the log of a stream or a multi-agent run generated on this node to Redis as it grows (issue 10; the keys are
 * {@link StreamCluster}'s): the meta hash with the first entry, then per entry an {@code XADD} and a {@code PUBLISH}
 * of its id on the news channel, issued without waiting on the one shared, pipelined connection; the expiry is
 * refreshed every {@value StreamCluster#REFRESH_EVERY} entries and set to the retention period by the last. So what a
 * crash can lose is what was not yet appended (at most the coalescing interval) plus the commands in flight.
 *
 * <p>A failed write marks the copy as missing entries; once Redis is connected again, the next append copies the
 * whole log and its meta again ({@link #wantsAll}: Redis restarted without persistence). The stream goes on on this
 * node regardless; the first failure of an outage is logged.
 *
 * @param <E> the entry type
 */
final class LogPublisher<E> implements ReplicatedEventLog.Replica<E> {

    private static final Logger LOG = Logger.getLogger(LogPublisher.class.getName());
    /** Once per stream that appends while Redis is down: written once a minute for all of them. */
    private static final ThrottledWarning WRITE_FAILED = new ThrottledWarning(LOG);

    private final Redis redis;
    private final String id;
    private final String owner;
    private final Map<String, String> meta;
    private final boolean listed;
    private final LogCodec<E> codec;
    private final long retentionSeconds;
    private final String logKey;
    private final String news;
    private boolean failed;
    /** A write failed since the last full copy: the next append copies the whole log again (Redis restarted). */
    private volatile boolean lost;
    private boolean rewriteMeta;

    /**
     * @param meta             what the meta hash holds besides {@code owner}, {@code node} and {@code createdAt}
     * @param listed           whether the id goes into the owner's running streams while it runs
     * @param retentionSeconds how long the ended log stays in Redis, in s
     */
    LogPublisher(Redis redis, String id, String owner, Map<String, String> meta, boolean listed, LogCodec<E> codec,
                 long retentionSeconds) {
        this.redis = redis;
        this.id = id;
        this.owner = owner;
        this.meta = meta;
        this.listed = listed;
        this.codec = codec;
        this.retentionSeconds = retentionSeconds;
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
            redisCommands.xadd(logKey, new XAddArgs().id(entryId(n)), Map.of("e", codec.encode(entry)))
                    .whenComplete(this::check);
            redisCommands.publish(news, Long.toString(n)).whenComplete(this::check);
            if (last) {
                redisCommands.expire(logKey, retentionSeconds).whenComplete(this::check);
                redisCommands.expire(metaKey, retentionSeconds).whenComplete(this::check);
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
        if (failure != null && !StreamCluster.idTaken(failure)) {
            failed("a write to Redis failed", failure);
        }
    }

    /**
     * Marks the copy as missing entries, so that the next append copies the whole log again; logs the first failure
     * of an outage only (and of all streams' first failures, one a minute): the stream goes on here regardless.
     */
    private void failed(String what, Throwable e) {
        lost = true;
        synchronized (this) {
            if (failed) {
                return;
            }
            failed = true;
        }
        WRITE_FAILED.warn(() -> "log " + id + ": " + what + " (" + e.getMessage()
                + "); the stream goes on on this node, other nodes may not follow it to its end");
    }
}
