package io.sluice.streams.control;

/**
 * Where an {@link SseConnection} writes its frames: a JAX-RS {@code SseEventSink} ({@link JaxRsEventSink}) or a
 * servlet response of its own (the {@code /v1} endpoint). Called by the connection's pump only, on the writers'
 * executor; {@link #close()} may also come from another thread (a replaced tab, an undeploy).
 */
public interface EventSink {

    /**
     * Writes one frame and flushes it. Blocks while the client's socket and the server's write queue are full (a
     * client that stopped reading); the guard reaps such a connection.
     *
     * @return whether it was written; {@code false} when the client is gone
     */
    boolean send(StreamEvent event);

    /** Whether the sink has been closed (by {@link #close()} or by the container). */
    boolean isClosed();

    /** Ends the response. Idempotent. */
    void close();
}
