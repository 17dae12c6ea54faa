package io.sluice.agents.control;

import io.sluice.streams.control.Follower;
import io.sluice.streams.control.GuardedConnection;
import io.sluice.streams.control.Pump;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One {@code /ws/agents} WebSocket session (API.md section 5): a {@link Pump} that follows any number of its owner's
 * runs, each from its own cursor into the run's log, and sends their frames with the asynchronous remote, one frame in
 * flight at a time. A slow client therefore never blocks a run or another session: it only falls behind, and is caught
 * up from the run's log; its memory does not grow with the lag.
 *
 * <p>{@code error} frames answering the client's own frames go through a small queue, sent before run frames; a client
 * that lets more than {@value #MAX_PENDING_ERRORS} pile up unread is closed (1008).
 *
 * <p>Registered with the {@link io.sluice.streams.control.ConnectionGuard} as a {@link GuardedConnection}: pinged every
 * heartbeat with a WebSocket ping, and reaped when a send has been stuck, or no pong has come, for two heartbeat
 * periods beyond the first.
 */
public final class AgentSession extends Pump implements GuardedConnection {

    private static final Logger LOG = Logger.getLogger(AgentSession.class.getName());
    /** Most unread {@code error} frames before the session is closed. */
    static final int MAX_PENDING_ERRORS = 32;
    /** The guard's key for sessions of {@code /ws/agents}. */
    public static final String TARGET = "ws:agents";

    private final class Subscription implements Follower {
        final RunFrames run;
        volatile long cursor;

        Subscription(RunFrames run, long cursor) {
            this.run = run;
            this.cursor = cursor;
        }

        @Override
        public void wake() {
            AgentSession.this.wake();
        }
    }

    private final long requestedNanos;
    private final String owner;
    private final String clientId;
    private final Session ws;
    private final Executor executor;
    private final long heartbeatNanos;
    private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pendingErrors = new AtomicInteger();
    private volatile Runnable onClose = () -> { };
    private volatile CloseReason closeReason = new CloseReason(CloseReason.CloseCodes.GOING_AWAY, "closed by the server");
    private volatile boolean abandoned;
    private volatile boolean clientGone;
    private volatile boolean inFlight;
    private volatile long sendStartedNanos;
    private volatile long lastPongNanos = System.nanoTime();
    private int roundRobin;

    /**
     * @param clientId       the tab's id, never {@code null}
     * @param executor       runs the session's pump (it never blocks: sends are asynchronous)
     * @param heartbeatNanos the guard's heartbeat period, in ns
     */
    public AgentSession(String owner, String clientId, Session ws, Executor executor, long heartbeatNanos) {
        this(owner, clientId, ws, executor, heartbeatNanos, Long.MIN_VALUE);
    }

    /**
     * @param requestedNanos when the handshake was received ({@link System#nanoTime()}), which orders two sessions
     *                       of one tab for the guard
     */
    public AgentSession(String owner, String clientId, Session ws, Executor executor, long heartbeatNanos,
                        long requestedNanos) {
        super(executor);
        this.requestedNanos = requestedNanos;
        this.owner = owner;
        this.clientId = clientId;
        this.ws = ws;
        this.executor = executor;
        this.heartbeatNanos = heartbeatNanos;
    }

    public String owner() {
        return owner;
    }

    @Override
    public long requestedNanos() {
        return requestedNanos;
    }

    @Override
    public String target() {
        return TARGET;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public void onClose(Runnable onClose) {
        this.onClose = onClose;
    }

    /** Nothing to start: the session sends what it follows, and follows what its client asks for. */
    @Override
    public void start() {
    }

    /**
     * Follows {@code run} from the frame after {@code afterSequence}: the frames after it, then live ones. Following a
     * run again moves the cursor (a {@code resume} on the same session).
     */
    public void follow(RunFrames run, long afterSequence) {
        if (isClosed()) {
            return;
        }
        Subscription subscription = new Subscription(run, afterSequence);
        Subscription previous = subscriptions.put(run.id(), subscription);
        if (previous != null) {
            run.unfollow(previous);
        }
        run.follow(subscription);
        if (isClosed()) { // closed meanwhile: closed() may have missed this subscription
            subscriptions.remove(run.id(), subscription);
            run.unfollow(subscription);
        }
    }

    /** Queues an {@code error} frame; closes the session (1008) when too many are unread. */
    public void sendError(String json) {
        if (pendingErrors.incrementAndGet() > MAX_PENDING_ERRORS) {
            close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "too many unread error frames"));
            return;
        }
        errors.add(json);
        wake();
    }

    /** A pong came: the client is alive. */
    public void pong() {
        lastPongNanos = System.nanoTime();
    }

    @Override
    public void ping() {
        if (isClosed()) {
            return;
        }
        try {
            ws.getAsyncRemote().sendPing(ByteBuffer.wrap(new byte[] {'s'}));
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "ping failed", e);
            abandon();
        }
    }

    @Override
    public long stalledNanos(long now) {
        long started = sendStartedNanos;
        long sending = started == 0 ? 0 : now - started;
        long silent = now - lastPongNanos - heartbeatNanos;
        return Math.max(0, Math.max(sending, silent));
    }

    /** Forgets the session at once and closes its socket off the calling thread (1001). */
    @Override
    public void abandon() {
        closeReason = new CloseReason(CloseReason.CloseCodes.GOING_AWAY, "no sign of life for two heartbeats");
        abandoned = true;
        close();
    }

    /** Closes the session (1001, a replaced tab or a server shutdown); the runs go on. Idempotent. */
    @Override
    public void disconnect() {
        close();
    }

    /** Closes the session with {@code reason}; the runs go on. Idempotent. */
    public void close(CloseReason reason) {
        closeReason = reason;
        close();
    }

    /** The socket is already closed (the client left): forget the session. Idempotent. */
    public void clientGone() {
        clientGone = true;
        close();
    }

    @Override
    protected void closed() {
        for (Subscription subscription : subscriptions.values()) {
            subscription.run.unfollow(subscription);
        }
        subscriptions.clear();
        onClose.run();
        if (clientGone) {
            return;
        }
        if (abandoned) {
            executor.execute(this::closeSocket);
        } else {
            closeSocket();
        }
    }

    private void closeSocket() {
        try {
            if (ws.isOpen()) {
                ws.close(closeReason);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "closing a session", e);
        }
    }

    /** Sends the next frame unless one is in flight. */
    @Override
    protected void pump() {
        if (inFlight) {
            return;
        }
        String error = errors.poll();
        if (error != null) {
            pendingErrors.decrementAndGet();
            send(error, null, 0);
            return;
        }
        List<Subscription> all = new ArrayList<>(subscriptions.values());
        for (int i = 0; i < all.size(); i++) {
            Subscription s = all.get((roundRobin + i) % all.size());
            List<AgentRun.RunFrame> next = s.run.framesAfter(s.cursor, 1);
            if (!next.isEmpty()) {
                roundRobin = (roundRobin + i + 1) % all.size();
                send(next.get(0).json(), s, next.get(0).sequence());
                return;
            }
            if (s.run.terminated() && s.cursor >= s.run.lastSequence()) {
                subscriptions.remove(s.run.id(), s); // done with this run: free it
                s.run.unfollow(s);
            }
        }
    }

    private void send(String json, Subscription subscription, long sequence) {
        inFlight = true;
        sendStartedNanos = System.nanoTime();
        try {
            ws.getAsyncRemote().sendText(json, result -> {
                sendStartedNanos = 0;
                if (!result.isOK()) {
                    LOG.log(Level.FINE, "send failed", result.getException());
                    close();
                    return;
                }
                if (subscription != null && subscription.cursor < sequence) {
                    subscription.cursor = sequence;
                }
                inFlight = false;
                wake();
            });
        } catch (RuntimeException e) {
            sendStartedNanos = 0;
            LOG.log(Level.FINE, "send failed", e);
            close();
        }
    }
}
