package io.sluice.streams.control;

import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Opens SSE connections that follow streams, through the {@link ConnectionGuard}. */
@ApplicationScoped
public class Followers {

    /** Longest client id accepted, in UTF-16 code units. */
    public static final int MAX_CLIENT_ID = 100;

    @Inject
    ConnectionGuard guard;
    @Inject
    ManagedExecutors executors;
    @Inject
    SluiceConfig config;

    /**
     * Refuses with 429 when the owner already holds the maximum of connections; call it before a request that will
     * follow a stream changes anything.
     */
    public void ensureRoomFor(String owner) {
        guard.ensureRoomFor(owner);
    }

    /**
     * The delivery a request asks for with its {@code flushMs} and {@code minChunk} query parameters (API.md section
     * 13, adaptive delivery); {@link Delivery#DEFAULT} without either. Call it before the request changes anything.
     *
     * @throws ProblemException 400 for a value that is not an integer in range
     */
    public Delivery delivery(String flushMs, String minChunk) {
        return Delivery.of(flushMs, minChunk, config.flushMillis());
    }

    /**
     * Follows {@code stream} on {@code sink} from {@code from} at the stream's own rate.
     *
     * @see #follow(String, Stream, Stream.Resumption, String, EventSink, Delivery)
     */
    public void follow(String owner, Stream stream, Stream.Resumption from, String clientId, EventSink sink) {
        follow(owner, stream, from, clientId, sink, Delivery.DEFAULT);
    }

    /**
     * Follows {@code stream} on {@code sink} (an {@code /api} sink) from {@code from}, with the events of API.md
     * section 2.
     *
     * @param clientId the tab's id ({@code clientId} query parameter or {@code X-Sluice-Client-Id}), or {@code null}
     *                 for a connection that replaces no other
     * @param delivery how this connection groups deltas into events ({@link #delivery})
     * @throws ProblemException 400 for an over-long client id, 429 at the per-owner connection cap; both before
     *                          anything is written
     */
    public void follow(String owner, Stream stream, Stream.Resumption from, String clientId, EventSink sink,
                       Delivery delivery) {
        String tab = clientId == null || clientId.isBlank() ? "anonymous-" + Ids.newId() : clientId.strip();
        if (tab.length() > MAX_CLIENT_ID) {
            throw ProblemException.badRequest("clientId is longer than " + MAX_CLIENT_ID + " characters");
        }
        guard.open(owner, new SseConnection(stream, from, tab, SseEvents.EDGE, sink, executors.writers(), delivery,
                executors.timers()));
    }

    /**
     * Follows {@code stream} from its first entry with another edge and sink (the {@code /v1} endpoint's).
     *
     * @throws ProblemException 429 at the per-owner connection cap, before anything is written
     */
    public void follow(String owner, Stream stream, SseEdge edge, EventSink sink) {
        guard.open(owner, new SseConnection(stream, Stream.Resumption.after(0), "anonymous-" + Ids.newId(), edge,
                sink, executors.writers()));
    }
}
