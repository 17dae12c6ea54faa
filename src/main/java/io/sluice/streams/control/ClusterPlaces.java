package io.sluice.streams.control;

import io.lettuce.core.ScriptOutputType;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.ThrottledWarning;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.IntSupplier;
import java.util.logging.Logger;

/**
 * The per-owner caps counted across the nodes of a cluster (issue 10, cluster-wide limits): running streams
 * ({@code SLUICE_MAX_STREAMS_PER_OWNER}, {@link StreamHub}) and live connections
 * ({@code SLUICE_MAX_CONNECTIONS_PER_OWNER}, {@link ConnectionGuard}). Each node still keeps its own count; this adds
 * the places the owner holds on the other nodes.
 *
 * <p>In Redis: a hash {@code sluice:places:<kind>:<owner>} of places per node. Taking a place is one Lua script that
 * sums the places of the nodes that hold a lease ({@code sluice:alive:<node>}, {@link StreamCluster}), drops those of
 * the others, so a crashed node's places free themselves, and takes one when the sum is under the cap. Used through
 * {@link RedisTransport#quota}; a node on its own counts its places only ({@link LocalTransport#quota}).
 */
@ApplicationScoped
public class ClusterPlaces {

    private static final Logger LOG = Logger.getLogger(ClusterPlaces.class.getName());
    /** Once per stream or connection that starts while Redis is down: written once a minute. */
    private static final ThrottledWarning CAP_UNCHECKED = new ThrottledWarning(LOG);

    /** The per-owner places of running streams ({@code SLUICE_MAX_STREAMS_PER_OWNER}). */
    public static final String STREAM_PLACES = "streams";
    /** The per-owner places of live connections ({@code SLUICE_MAX_CONNECTIONS_PER_OWNER}). */
    public static final String CONNECTION_PLACES = "connections";

    /*
     * KEYS[1] the owner's places of one kind, a hash: node -> places taken there. ARGV: this node, the cap, the lease
     * key prefix. Places of nodes without a lease are dropped: a crashed node's places free themselves.
     */
    private static final String TAKE_PLACE = """
            local total = 0
            local held = redis.call('HGETALL', KEYS[1])
            for i = 1, #held, 2 do
              if held[i] == ARGV[1] or redis.call('EXISTS', ARGV[3] .. held[i]) == 1 then
                total = total + tonumber(held[i + 1])
              else
                redis.call('HDEL', KEYS[1], held[i])
              end
            end
            if total >= tonumber(ARGV[2]) then
              return 0
            end
            redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
            redis.call('PEXPIRE', KEYS[1], 86400000)
            return 1
            """;
    private static final String GIVE_PLACE = """
            if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
              redis.call('HDEL', KEYS[1], ARGV[1])
            end
            return 1
            """;

    @Inject
    Redis redis;

    static String placesKey(String kind, String owner) {
        return "sluice:places:" + kind + ":" + owner;
    }

    /**
     * A per-owner quota of {@code kind} ({@link #STREAM_PLACES}, {@link #CONNECTION_PLACES}) counted on this node and
     * across the nodes.
     *
     * @param max the cap per owner, read at each open
     */
    OwnerQuota quota(String kind, IntSupplier max) {
        return new OwnerQuota(max, new OwnerQuota.Shared() {
            @Override
            public boolean take(String owner, int cap) {
                return ClusterPlaces.this.take(kind, owner, cap);
            }

            @Override
            public void give(String owner) {
                ClusterPlaces.this.give(kind, owner);
            }
        });
    }

    /**
     * Takes one of {@code owner}'s places of a kind across the cluster (issue 10, cluster-wide limits): the places
     * held on every node with a lease count, atomically (one Lua script). While Redis cannot be reached (then
     * logged; it fails at once while it is not connected, {@link Redis#commands()}), it takes nothing and says yes:
     * the node's own cap still holds.
     *
     * @param max the cap
     * @return whether the owner was under the cap, and the place is taken
     */
    boolean take(String kind, String owner, int max) {
        try {
            Long taken = redis.await(() -> redis.commands().<Long>eval(TAKE_PLACE, ScriptOutputType.INTEGER,
                    new String[] {placesKey(kind, owner)}, redis.nodeId(), Integer.toString(max),
                    StreamCluster.leaseKey("")));
            return taken != null && taken == 1;
        } catch (IllegalStateException e) {
            CAP_UNCHECKED.warn(() -> "the cluster-wide cap of " + kind + " could not be checked (" + e.getMessage()
                    + "); this node's own cap applies");
            return true;
        }
    }

    /** Gives back a place of {@link #take}, without waiting. */
    void give(String kind, String owner) {
        try {
            redis.commands().eval(GIVE_PLACE, ScriptOutputType.INTEGER, new String[] {placesKey(kind, owner)},
                    redis.nodeId());
        } catch (IllegalStateException e) {
            LOG.fine(() -> "a cluster-wide place could not be given back: " + e.getMessage());
        }
    }
}
