package io.sluice.streams.control;

import java.util.List;

/**
 * How one kind of SSE endpoint renders a stream's typed {@link StreamEntry entries}: the events of API.md section 2
 * ({@link SseEvents#EDGE}), or OpenAI's {@code chat.completion.chunk} events of section 8 (the {@code /v1} edge). An
 * {@link SseConnection} asks its edge for the frames of each entry it reads and writes them in order.
 *
 * <p>An edge may keep state for its connection (an OpenAI stream sends a role chunk once, before its first delta), so
 * it belongs to one connection unless it is stateless. Its methods are called by the connection's pump only, never
 * concurrently.
 */
public interface SseEdge {

    /**
     * The frames that stand for one entry, in order; empty when the entry has no frame on this edge.
     *
     * @param stream the stream the entry belongs to
     * @param logged the entry and its id; the first entry of a resumed connection may be the rest of a delta, with
     *               that delta's id
     */
    List<StreamEvent> render(Stream stream, EventLog.Logged<StreamEntry> logged);

    /** The heartbeat frame, sent every {@code SLUICE_HEARTBEAT_SECONDS}. */
    StreamEvent heartbeat();
}
