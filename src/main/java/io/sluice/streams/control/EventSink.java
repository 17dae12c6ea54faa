package io.sluice.streams.control;

/**
 * Where an {@link SseConnection} writes its frames: the {@code /api} sink over a JAX-RS {@code SseEventSink}
 * ({@code boundary.ApiEventSink}) or the {@code /v1} servlet's response. A sink keeps to itself whatever its container
 * needs (the README's "Container workarounds"). Called by the connection's pump only, on the writers' executor;
 * {@link #close()} may also come from another thread (a replaced tab, an undeploy).
 */
public interface EventSink {

    /**
     * Runs {@code start} once the sink may be written to: the connection writes nothing before. At once, on the calling
     * thread, unless the sink says otherwise (the {@code /api} sink: once the request's dispatch has ended).
     */
    default void whenOpen(Runnable start) {
        start.run();
    }

    /**
     * Writes one frame and flushes it. Blocks while the client's socket and the server's write queue are full (a
     * client that stopped reading); the guard reaps such a connection.
     *
     * @return whether it was written; {@code false} when the client is gone
     */
    boolean send(StreamEvent event);

    /** Whether the sink has been closed (by {@link #close()} or by the container). */
    boolean isClosed();

    /** Ends the response, now or once the sink is open. Idempotent; may come before the sink is open. */
    void close();
}
