package io.sluice.streams.control;

/**
 * A live client connection that the {@link ConnectionGuard} keeps in check: an SSE connection following a stream
 * ({@link SseConnection}) or a WebSocket session of {@code /ws/agents}. The guard keys it by owner, {@link #target()}
 * and {@link #clientId()} (API.md section 3: a second connection with the same key replaces the first), pings it
 * every heartbeat, and forgets it when {@link #stalledNanos} reaches two heartbeat periods.
 *
 * <p>Life: the guard calls {@link #onClose} first, then publishes the connection, then calls {@link #start()}, so a
 * connection that closes at any moment (a failed heartbeat, a replacement) is always forgotten.
 */
public interface GuardedConnection {

    /** What the connection follows: a stream id, or a fixed name for a socket ({@code ws:agents}). */
    String target();

    /** The tab's id, never {@code null}. */
    String clientId();

    /** Sets what runs exactly once when the connection closes, for whatever reason; called before {@link #start()}. */
    void onClose(Runnable onClose);

    /** Starts the connection (it begins to read and write). */
    void start();

    /** Sends a heartbeat (an SSE {@code ping} event, a WebSocket ping frame). Never blocks. */
    void ping();

    /**
     * The liveness signal (README, "Extensions"): a connection whose target is still generating and that has written
     * nothing for {@code silenceNanos} sends a heartbeat now. Called by the guard's liveness tick, several times a
     * second; never blocks. Nothing by default (a WebSocket session has its own pings).
     *
     * @param now          {@link System#nanoTime()}
     * @param silenceNanos the silence, in ns, that calls for a heartbeat while generating
     */
    default void keepAlive(long now, long silenceNanos) {
    }

    /**
     * How long, in ns at {@code now} ({@link System#nanoTime()}), the connection has shown no sign of life beyond
     * what a healthy one would: the age of a write still in progress, or for a WebSocket the time since its last pong
     * beyond one heartbeat period. 0 for a healthy connection.
     */
    long stalledNanos(long now);

    /** Forgets a stuck connection at once and closes its socket off the calling thread. Idempotent. */
    void abandon();

    /** Closes the connection (a replaced tab, an undeploy); what it follows goes on. Idempotent. */
    void disconnect();

    /**
     * When the client asked for the connection ({@link System#nanoTime()}): of two connections of one tab, the one
     * asked for later wins, whatever order the server registers them in. {@link Long#MIN_VALUE} where unknown (the
     * order of registration decides then).
     */
    default long requestedNanos() {
        return Long.MIN_VALUE;
    }
}
