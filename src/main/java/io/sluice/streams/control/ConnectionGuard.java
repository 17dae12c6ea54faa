package io.sluice.streams.control;


import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.ejb.ConcurrencyManagement;
import jakarta.ejb.ConcurrencyManagementType;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionManagement;
import jakarta.ejb.TransactionManagementType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Guards the live connections of this node, SSE connections and {@code /ws/agents} WebSocket sessions alike
 * ({@link GuardedConnection}; API.md sections 3 and 5; seed behaviour "connection guard").
 *
 * <ul>
 *   <li><b>No duplicates.</b> Connections are keyed by owner, stream and client id (a per-tab id); a
 *       second connection with the same key replaces the first, which is closed. "Second" is by the time the client
 *       asked ({@link GuardedConnection#requestedNanos()}: a WebSocket's handshake), not by the order in which the
 *       server happens to register them.</li>
 *   <li><b>Per-owner cap.</b> An owner may hold at most {@code SLUICE_MAX_CONNECTIONS_PER_OWNER}
 *       connections (default 8); one more is refused with 429 before anything is written.</li>
 *   <li><b>In a cluster</b> ({@code SLUICE_REDIS_URL}, issue 10) the cap counts the owner's connections on every
 *       node ({@link StreamTransport#quota}), and a connection with a client id closes the same tab's connection on
 *       the other nodes too ({@link Control.TabOpened}, sent to every node). Heartbeats and reaping stay per node.</li>
 *   <li><b>Heartbeats.</b> Every {@code SLUICE_HEARTBEAT_SECONDS} each connection is sent a {@code ping};
 *       a failed write closes and forgets the connection (no zombies).</li>
 *   <li><b>Liveness.</b> While a connection's stream is generating, a connection that wrote nothing for
 *       {@code SLUICE_LIVENESS_MS} (default 1000; 0 turns it off) is sent a {@code ping} at once, checked every
 *       quarter of that: a client may treat 2 s of silence during a generation as a dead connection (issue 20,
 *       README "Extensions"), while an idle connection still hears only the heartbeat.</li>
 *   <li><b>Stalled readers.</b> A connection whose write has been blocked for two heartbeat periods (the
 *       client keeps its socket open but reads nothing) is forgotten at once and its sink closed off the
 *       timer thread; the stream and its other followers are unaffected.</li>
 * </ul>
 *
 * <p>Concurrency is bean-managed: concurrent maps, no container lock on the hot path; so are transactions (it
 * touches no database), so a call costs no transaction. Besides {@code @Singleton} it is {@code @ApplicationScoped},
 * which the EJB specification allows for a singleton session bean, so that a CDI-only container sees it too (issue 14).
 */
@Singleton
@Startup
@ApplicationScoped
@ConcurrencyManagement(ConcurrencyManagementType.BEAN)
@TransactionManagement(TransactionManagementType.BEAN)
public class ConnectionGuard {

    private static final Logger LOG = Logger.getLogger(ConnectionGuard.class.getName());

    private record Key(String owner, String target, String clientId) {
    }


    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    StreamObserver metrics;
    @Inject
    StreamTransport transport;
    @Inject
    Redis redis;

    private final ConcurrentHashMap<Key, GuardedConnection> connections = new ConcurrentHashMap<>();
    /** Places per owner: one per key held, across the nodes of a cluster. */
    private OwnerQuota perOwner;
    private ScheduledFuture<?> heartbeat;
    private ScheduledFuture<?> liveness;
    private long heartbeatNanos;
    private long livenessNanos;

    @PostConstruct
    void start() {
        perOwner = transport.quota(ClusterPlaces.CONNECTION_PLACES, config::maxConnectionsPerOwner);
        long period = config.heartbeat().toMillis();
        heartbeatNanos = TimeUnit.MILLISECONDS.toNanos(period);
        heartbeat = executors.timers().scheduleAtFixedRate(this::beat, period, period, TimeUnit.MILLISECONDS);
        long silence = config.livenessMillis();
        if (silence > 0) {
            livenessNanos = TimeUnit.MILLISECONDS.toNanos(silence);
            long tick = Math.max(10, silence / 4);
            liveness = executors.timers().scheduleAtFixedRate(this::keepAlive, tick, tick, TimeUnit.MILLISECONDS);
        }
        transport.onControl(Control.TabOpened.class, this::replacedElsewhere);
    }

    @PreDestroy
    void stop() {
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        if (liveness != null) {
            liveness.cancel(false);
        }
        connections.values().forEach(GuardedConnection::disconnect);
    }

    /**
     * Refuses early, before a request changes anything, when the owner already holds the maximum of
     * connections, or when the node's writer queue is full; {@link #open} checks the cap again atomically.
     *
     * @throws ProblemException 429; 503 {@code overloaded} with {@code Retry-After} when the writers' queue is full
     *                          ({@link ManagedExecutors#ensureRoom()})
     */
    public void ensureRoomFor(String owner) {
        if (!perOwner.hasRoom(owner)) {
            throw tooMany(perOwner.max());
        }
        executors.ensureRoom();
    }

    private static ProblemException tooMany(int max) {
        return new ProblemException(429, "too-many-connections",
                "at most " + max + " live connections per user; close one first", 1L);
    }

    /**
     * Registers and starts a connection; a previous one with the same owner, target and client id is closed. The
     * connection is told how to forget itself before it is published, so that a close at any moment after (a failed
     * heartbeat, a replacement) removes it and its count.
     *
     * <p>Each key held counts one place ({@link OwnerQuota}). A connection takes a place atomically; at the cap, only
     * one that replaces the connection of its key passes, taking over that connection's place in the same atomic step
     * (the replacement of the key's entry). So the owner's connections never pass the cap, whatever runs at once.
     *
     * @throws ProblemException 429 when the owner already holds the maximum number of connections; the
     *                          connection is then not opened
     */
    public void open(String owner, GuardedConnection connection) {
        Key key = new Key(owner, connection.target(), connection.clientId());
        connection.onClose(() -> forget(owner, key, connection));
        GuardedConnection[] loser = {null}; // of two connections with the key, the one that goes
        boolean placed = perOwner.tryOpen(owner);
        if (placed) {
            connections.compute(key, (k, existing) -> replace(existing, connection, loser));
        } else if (connections.computeIfPresent(key, (k, existing) -> replace(existing, connection, loser)) == null) {
            throw tooMany(perOwner.max()); // at the cap, and no connection of this key to replace
        }
        if (!connection.clientId().startsWith("anonymous-")) {
            announce(key);
        }
        if (loser[0] != null) {
            if (placed) {
                perOwner.close(owner); // the key is counted once; the loser's own forget finds it taken by the other
            }
            metrics.duplicateReplaced(); // metrics: duplicate replaced
            loser[0].disconnect();
        }
        if (loser[0] != connection) {
            connection.start();
        }
    }

    /**
     * Of a key's registered connection and a new one, the one that stays; the other goes into {@code loser[0]}. The
     * later asked for wins ({@link GuardedConnection#requestedNanos()}).
     */
    private static GuardedConnection replace(GuardedConnection existing, GuardedConnection connection,
                                             GuardedConnection[] loser) {
        if (existing != null && existing.requestedNanos() > connection.requestedNanos()) {
            loser[0] = connection; // asked for before the one already registered (its onOpen ran late)
            return existing;
        }
        loser[0] = existing;
        return connection;
    }

    private void forget(String owner, Key key, GuardedConnection connection) {
        if (connections.remove(key, connection)) {
            perOwner.close(owner);
        }
    }

    /** Tells the other nodes that this node now holds the connection of {@code key} (nothing on a node alone). */
    private void announce(Key key) {
        transport.broadcast(new Control.TabOpened(redis.nodeId(), key.owner(), key.target(), key.clientId()));
    }

    /**
     * Another node announced a connection of a tab: this node's connection of the same tab goes. Runs on the work
     * pool ({@link StreamTransport#onControl}); this node's own announcement, which comes back to it, is ignored.
     */
    private void replacedElsewhere(Control.TabOpened m) {
        if (redis.nodeId().equals(m.node())) {
            return;
        }
        Key key = new Key(m.owner(), m.target(), m.clientId());
        GuardedConnection old = connections.remove(key);
        if (old != null) {
            perOwner.close(key.owner());
            metrics.duplicateReplaced(); // metrics: duplicate replaced
            old.disconnect();
        }
    }

    /** The heartbeat: pings every connection and reaps the stalled ones. */
    void beat() {
        long now = System.nanoTime();
        for (GuardedConnection connection : connections.values()) {
            if (connection.stalledNanos(now) >= 2 * heartbeatNanos) {
                LOG.fine(() -> "reaping a stalled connection to " + connection.target());
                connection.abandon();
                metrics.zombieReaped(); // metrics: zombie reaped
            } else {
                connection.ping();
            }
        }
    }

    /** The liveness tick: pings the connections of generating streams that have been silent too long. */
    void keepAlive() {
        long now = System.nanoTime();
        for (GuardedConnection connection : connections.values()) {
            connection.keepAlive(now, livenessNanos);
        }
    }

    /** Live connections (SSE and WebSocket) on this node. */
    public int connectionCount() {
        return connections.size();
    }

    /** Live connections (SSE and WebSocket) of one owner. */
    public int connectionCount(String owner) {
        return perOwner.count(owner);
    }
}
