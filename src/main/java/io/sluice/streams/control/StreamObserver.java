package io.sluice.streams.control;

import io.sluice.providers.control.GenerationListener;
import jakarta.ws.rs.sse.SseEventSink;

/**
 * What the streaming code reports about streams and connections (API.md section 11), to whoever measures them: the
 * seam through which {@code streams}, and the components above it, report without knowing the metrics. Its one
 * implementation is {@code io.sluice.operations.control.StreamMetrics} (an {@code @ApplicationScoped} bean, injected
 * by this type); {@link #NONE} records nothing.
 *
 * <p>Cost: one {@link Watch} per stream, made at its start; per delta only the listener that {@link Watch#listening}
 * returns runs (a clock read and a histogram record), never an event. Implementations are thread-safe.
 */
public interface StreamObserver {

    /** Records nothing, and passes listeners and sinks through unchanged. */
    StreamObserver NONE = new StreamObserver() {
        @Override
        public Watch streamStarted(StreamType type, String route) {
            return Watch.NONE;
        }

        @Override
        public void resumed(String transport) {
        }

        @Override
        public SseEventSink resumedOver(SseEventSink sink) {
            return sink;
        }

        @Override
        public void unloadAbortRequested() {
        }

        @Override
        public void zombieReaped() {
        }

        @Override
        public void duplicateReplaced() {
        }
    };

    /**
     * Watches one stream: its first token and the gaps between its deltas ({@link #listening}), and its end
     * ({@link #ended}). Provider calls for one generation never overlap ({@link GenerationListener}'s contract), so
     * an implementation needs no lock for them.
     */
    interface Watch {

        /** Watches nothing. */
        Watch NONE = new Watch() {
            @Override
            public GenerationListener listening(GenerationListener target) {
                return target;
            }

            @Override
            public void ended(Stream.End end, long durationMs) {
            }
        };

        /**
         * A listener that observes the deltas, then passes every call to {@code target} (where the provider is given
         * the stream as its listener).
         */
        GenerationListener listening(GenerationListener target);

        /**
         * The stream ended (after its terminal event, {@code StreamHub.terminated}).
         *
         * @param end        how it ended ({@link Stream#end()}); {@code null} is ignored
         * @param durationMs its duration, in milliseconds
         */
        void ended(Stream.End end, long durationMs);
    }

    /**
     * A stream was created ({@code StreamHub.start}).
     *
     * @param route the model route that serves it ({@code simulated}, {@code upstream}, a named route, or the
     *              warm-up's, which is not counted)
     * @return the stream's watch: wrap the stream's {@link GenerationListener} in it, and tell it the end
     */
    Watch streamStarted(StreamType type, String route);

    /**
     * A client reconnected to a running or retained stream (the WebSocket {@code resume} frame; SSE reconnects use
     * {@link #resumedOver}).
     *
     * @param transport {@code sse} or {@code websocket}
     */
    void resumed(String transport);

    /**
     * An SSE reconnect ({@code Last-Event-ID} or offset): counts the resume, and returns {@code sink} watched so that
     * the first event written to it records the resume latency. Every call passes through unchanged.
     */
    SseEventSink resumedOver(SseEventSink sink);

    /** A beacon asked to abort a stream on page unload ({@code POST /api/chat/abort} with reason unload). */
    void unloadAbortRequested();

    /** The connection guard forgot a connection that stopped reading or answering pings (a zombie). */
    void zombieReaped();

    /** A second connection of the same tab to the same target replaced the first (no duplicate). */
    void duplicateReplaced();
}
