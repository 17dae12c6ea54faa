package io.sluice.streams.control;

import static io.sluice.streams.control.StreamCluster.entryId;
import static io.sluice.streams.control.StreamCluster.leaseKey;
import static io.sluice.streams.control.StreamCluster.logKey;
import static io.sluice.streams.control.StreamCluster.metaKey;
import static io.sluice.streams.control.StreamCluster.newsChannel;
import static io.sluice.streams.control.StreamCluster.runningKey;
import static io.sluice.streams.control.StreamCluster.takeoverKey;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.platform.control.ThrottledWarning;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Crash survival in a cluster (issue 10): each node's lease in Redis, and the takeover of a node that lost its own.
 *
 * <p>Every node renews {@code sluice:alive:<node>} ({@value #LEASE_MILLIS} ms) every
 * second. Every {@value #LOST_CHECK_MILLIS} ms each node looks in the database for nodes with open stream records;
 * a node whose lease stays missing for {@value #LOST_AFTER_MILLIS} ms is lost, and the node that sets
 * {@code sluice:takeover:<node>} first closes its streams: the text that reached Redis is saved as the answer
 * ({@code partial}, {@code node_lost}, once: {@link Takeovers#closeLost}), and the log in Redis gets the terminal
 * {@code error} of code {@code NODE_LOST}, which every follower on every node receives. So a crash loses the text
 * of the last coalescing interval ({@code SLUICE_STREAM_FLUSH_MS}, 50 ms) and the commands in flight, and is
 * noticed within about {@code lease + 2 × lease + look} = 11 s.
 */
@ApplicationScoped
public class NodeLeases {

    private static final Logger LOG = Logger.getLogger(NodeLeases.class.getName());
    /** Once per log that ends while Redis is down: written once a minute. */
    private static final ThrottledWarning END_UNWRITTEN = new ThrottledWarning(LOG);
    /** A node's lease in Redis, in ms: renewed every {@value #RENEW_MILLIS} ms, it lapses when the node is gone. */
    static final long LEASE_MILLIS = 3_000;
    /** How often the lease is renewed, in ms. */
    static final long RENEW_MILLIS = 1_000;
    /** How often a node looks for lost nodes, in ms. */
    static final long LOST_CHECK_MILLIS = 2_000;
    /**
     * How long a node's lease must stay missing before the node is lost, in ms: two lease periods, so that a Redis
     * restart (every lease gone at once, renewed within about 2 s of Redis's return) loses no node.
     */
    static final long LOST_AFTER_MILLIS = 2 * LEASE_MILLIS;
    /** How long one node holds the right to take over a lost node, in ms. */
    static final long TAKEOVER_MILLIS = 60_000;

    @Inject
    Redis redis;
    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    Takeovers takeovers;
    /** The other logs that a lost node left open: the agent runs' ({@code io.sluice.agents.control.LostRuns}). */
    @Inject
    @Any
    Instance<LostLogs> lostLogs;
    @Inject
    Mirrors mirrors;

    /** Nodes with open streams whose lease was missing, and when that was first seen ({@link System#nanoTime()}). */
    private final ConcurrentHashMap<String, Long> suspects = new ConcurrentHashMap<>();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final AtomicBoolean leaseFailing = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * Takes the lease now and renews it every {@value #RENEW_MILLIS} ms; looks for lost nodes. Once (the
     * {@link RedisTransport}'s start).
     */
    void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        renewLease();
        executors.timers().scheduleWithFixedDelay(this::renewLease, RENEW_MILLIS, RENEW_MILLIS,
                TimeUnit.MILLISECONDS);
        executors.timers().scheduleWithFixedDelay(this::lookForLostNodes, LOST_CHECK_MILLIS, LOST_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Hands the look for lost nodes to the database pool, one at a time. */
    private void lookForLostNodes() {
        if (!checking.compareAndSet(false, true)) {
            return;
        }
        try {
            executors.database().execute(() -> {
                try {
                    checkLostNodes();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "the look for lost nodes failed", e);
                } finally {
                    checking.set(false);
                }
            });
        } catch (RejectedExecutionException stopping) {
            checking.set(false);
        }
    }

    /** {@code SET sluice:alive:<node> PX lease}, without waiting; the first failure of an outage is logged. */
    private void renewLease() {
        try {
            redis.commands().set(leaseKey(redis.nodeId()), "1", SetArgs.Builder.px(LEASE_MILLIS))
                    .whenComplete((ok, failure) -> leaseRenewed(failure));
        } catch (RuntimeException e) { // Redis away (IllegalStateException), or anything else: the schedule goes on
            leaseRenewed(e);
        }
    }

    private void leaseRenewed(Throwable failure) {
        if (failure == null) {
            if (leaseFailing.compareAndSet(true, false)) {
                LOG.info("this node's lease in Redis is renewed again");
            }
        } else if (leaseFailing.compareAndSet(false, true)) {
            LOG.warning(() -> "this node's lease in Redis cannot be renewed (" + failure.getMessage() + "); after "
                    + LEASE_MILLIS + " ms other nodes may take over its streams");
        }
    }

    /**
     * Takes over the nodes that have open stream records and no lease, seen so for {@value #LOST_AFTER_MILLIS} ms
     * (so a Redis restart, which drops every lease for a second or two, loses no node). Of several nodes that look at
     * once, the one that sets {@code sluice:takeover:<node>} first takes over.
     */
    private void checkLostNodes() {
        String me = redis.nodeId();
        List<String> nodes = takeovers.openNodes();
        suspects.keySet().retainAll(nodes);
        for (String node : nodes) {
            if (node.equals(me)) {
                continue;
            }
            try {
                if (redis.await(() -> redis.commands().exists(leaseKey(node))) > 0) {
                    suspects.remove(node);
                    continue;
                }
                long now = System.nanoTime();
                long since = suspects.computeIfAbsent(node, n -> now);
                if (now - since < TimeUnit.MILLISECONDS.toNanos(LOST_AFTER_MILLIS)) {
                    continue;
                }
                String claimed = redis.await(() -> redis.commands().set(takeoverKey(node), me,
                        SetArgs.Builder.nx().px(TAKEOVER_MILLIS)));
                if ("OK".equals(claimed)) {
                    takeOver(node);
                }
            } catch (IllegalStateException e) {
                LOG.warning(() -> "node " + node + " could not be checked: " + e.getMessage());
            }
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    /**
     * Closes every stream a lost node left open: its text as far as it reached Redis is saved ({@code partial},
     * {@code node_lost}, exactly once: see {@link Takeovers#closeLost}), then its log gets the terminal
     * {@code error} entry of code {@code NODE_LOST}, which the followers on every node receive; its agent runs end as
     * {@code partial}.
     */
    private void takeOver(String node) {
        int closed = 0;
        for (String id : takeovers.openStreams(node)) {
            Stream copy = null;
            try {
                copy = mirrors.read(id).orElse(null);
            } catch (ProblemException e) {
                LOG.warning(() -> "stream " + id + " of lost node " + node + " could not be read from Redis; it is "
                        + "closed without its text");
            }
            Optional<Takeovers.Closed> done = takeovers.closeLost(id, copy == null ? "" : copy.content(),
                    copy == null ? "" : copy.reasoning());
            if (done.isPresent()) {
                closed++;
                if (copy != null && !copy.terminated()) {
                    endLost(copy, done.get().messageId());
                }
            }
        }
        List<String> lostRuns = new ArrayList<>();
        for (LostLogs logs : lostLogs) { // the agent runs' (io.sluice.agents)
            lostRuns.addAll(logs.closeLost(node));
        }
        for (String runId : lostRuns) {
            endLostLog(runId);
        }
        int runs = lostRuns.size();
        int streams = closed;
        LOG.warning(() -> "node " + node + " was lost: this node closed its " + streams + " open streams and " + runs
                + " agent runs as " + Reason.NODE_LOST.wire());
    }

    /**
     * Appends the terminal entry to a lost stream's log in Redis, as the entry after the last one there: an
     * {@code error} of code {@code NODE_LOST} naming the saved answer; the stream leaves its owner's running streams.
     */
    private void endLost(Stream copy, String messageId) {
        UpstreamException failure = new UpstreamException(FailureCode.NODE_LOST,
                "the node that generated this answer was lost; the text so far is saved");
        StreamEntry ended = new StreamEntry.Ended(new Stream.End(StreamStatus.ERROR, MessageStatus.PARTIAL,
                Reason.NODE_LOST.wire(), null, null, copy.model(), failure), messageId, copy.contentLength());
        if (appendLast(copy.id(), copy.lastEventId() + 1, EntryCodec.STREAMS.encode(ended))) {
            redis.commands().zrem(runningKey(copy.owner()), copy.id());
        }
    }

    /**
     * Appends a lost writer's {@value StreamCluster#LOST_END} entry (its text as the writer stored it in the log's
     * meta) to log {@code id} in Redis, at the id after the last one there, so its followers on every node see its end.
     */
    private void endLostLog(String id) {
        try {
            String end = redis.await(() -> redis.commands().hget(metaKey(id), StreamCluster.LOST_END));
            if (end == null) {
                return;
            }
            List<StreamMessage<String, String>> last = redis.await(() -> redis.commands().xrevrange(logKey(id),
                    Range.create("-", "+"), Limit.from(1)));
            long next = last.isEmpty() ? 1 : StreamCluster.eventId(last.get(0).getId()) + 1;
            appendLast(id, next, end);
        } catch (IllegalStateException e) {
            END_UNWRITTEN.warn(() -> "log " + id + ": its end could not be written to Redis: " + e.getMessage());
        }
    }

    /**
     * Appends {@code value} as entry {@code n} of log {@code id} and ends the log: the notice to its followers, then
     * the retention period's expiry. {@code XADD} at an id that is there already fails, so of two nodes that end a
     * log, one does.
     *
     * @return whether this call appended it
     */
    private boolean appendLast(String id, long n, String value) {
        try {
            redis.await(() -> redis.commands().xadd(logKey(id), new XAddArgs().id(entryId(n)), Map.of("e", value)));
            RedisAsyncCommands<String, String> commands = redis.commands();
            commands.publish(newsChannel(id), Long.toString(n));
            commands.expire(logKey(id), StreamCluster.retentionSeconds(config));
            commands.expire(metaKey(id), StreamCluster.retentionSeconds(config));
            return true;
        } catch (IllegalStateException e) {
            if (StreamCluster.idTaken(e)) {
                LOG.info(() -> "log " + id + ": its end was written already");
            } else {
                END_UNWRITTEN.warn(() -> "log " + id + ": its end could not be written to Redis: " + e.getMessage());
            }
            return false;
        }
    }
}
