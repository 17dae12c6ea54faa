package io.sluice.streams.control;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One SSE connection following one stream (API.md section 3): a {@link Pump} with a cursor into the stream's log, not
 * a copy of its events. A reader that falls behind is caught up from the log, never skipped, and its memory does not
 * grow with the lag. It writes on the writers' executor, at most {@value #BATCH} events per read of the log; a write
 * blocks only that executor's thread, never the threads that parse upstream bytes, save results or run timers.
 *
 * <p>What it writes is its {@link SseEdge}'s rendering of each entry (the events of API.md section 2, or OpenAI's
 * {@code chat.completion.chunk} events of section 8), and where it writes is an {@link EventSink} (a JAX-RS
 * {@code SseEventSink}, or the {@code /v1} servlet's response): every SSE endpoint shares this one reader, with its
 * guard registration, heartbeats and stalled-reader reaping.
 *
 * <p>It closes itself after the terminal event, when a write fails (the client is gone: that is not a stop, the
 * stream goes on), or when the {@link ConnectionGuard} replaces or reaps it.
 *
 * <p>A connection made {@code held} touches its sink only after {@link #release()}: neither a write nor the close of
 * the sink happens before, though it follows its stream and may be closed meanwhile (the close of the sink then happens
 * at the release). {@link Followers} holds a JAX-RS connection until the request's dispatch has ended
 * ({@link DispatchEnd}).
 */
public final class SseConnection extends Pump implements GuardedConnection {

    private static final Logger LOG = Logger.getLogger(SseConnection.class.getName());
    /** Most events written per read of the log. */
    static final int BATCH = 64;

    private final Stream stream;
    private final String clientId;
    private final SseEdge edge;
    private final EventSink sink;
    private final Executor writers;
    private volatile Runnable onClose = () -> { };
    private volatile boolean pingDue;
    private volatile boolean abandoned;
    private volatile long writeStartedNanos;
    private volatile boolean held;
    // touched by pump() only, which never runs concurrently with itself
    private EventLog.Logged<StreamEntry> first;
    private long cursor;

    /**
     * @param from     where to start reading (after an id, optionally with the rest of a delta first)
     * @param clientId the tab's id, never {@code null}
     * @param edge     renders the entries (and the heartbeat) as frames
     * @param sink     where the frames are written
     * @param writers  runs the writes
     */
    public SseConnection(Stream stream, Stream.Resumption from, String clientId, SseEdge edge, EventSink sink,
                         Executor writers) {
        this(stream, from, clientId, edge, sink, writers, false);
    }

    /**
     * @param held whether the sink waits for {@link #release()} before its first write or its close
     * @see #SseConnection(Stream, Stream.Resumption, String, SseEdge, EventSink, Executor)
     */
    public SseConnection(Stream stream, Stream.Resumption from, String clientId, SseEdge edge, EventSink sink,
                         Executor writers, boolean held) {
        super(writers);
        this.held = held;
        this.stream = stream;
        this.clientId = clientId;
        this.edge = edge;
        this.sink = sink;
        this.writers = writers;
        this.cursor = from.afterId();
        this.first = from.first();
    }

    @Override
    public void onClose(Runnable onClose) {
        this.onClose = onClose;
    }

    /** Starts following: attaches to the stream, which wakes this connection. */
    @Override
    public void start() {
        stream.follow(this);
    }

    public Stream stream() {
        return stream;
    }

    @Override
    public String target() {
        return stream.id();
    }

    @Override
    public String clientId() {
        return clientId;
    }

    /** Queues the edge's heartbeat (a {@code ping} event without id on {@code /api}, a comment line on {@code /v1}). */
    @Override
    public void ping() {
        pingDue = true;
        wake();
    }

    /** The age of a write still in progress, in ns, or 0 when no write is blocked. */
    @Override
    public long stalledNanos(long now) {
        long started = writeStartedNanos;
        return started == 0 ? 0 : now - started;
    }

    /**
     * Forgets a connection whose writes are stuck (the client stopped reading): detaches it at once, so the stream
     * and its memory no longer depend on it, and closes its sink on the writers' executor.
     */
    @Override
    public void abandon() {
        abandoned = true;
        close();
    }

    @Override
    public void disconnect() {
        close();
    }

    /**
     * Lets a held connection use its sink: it writes what its stream has, or closes the sink when the connection was
     * closed meanwhile. Idempotent; nothing for a connection that was never held.
     */
    public void release() {
        if (!held) {
            return;
        }
        held = false;
        if (isClosed()) {
            closeSink(); // closed() left it while held; a second close of the sink is harmless
        } else {
            wake();
        }
    }

    @Override
    protected void closed() {
        stream.unfollow(this);
        onClose.run();
        if (held) {
            return; // release() closes the sink
        }
        if (abandoned) {
            writers.execute(this::closeSink);
        } else {
            closeSink();
        }
    }

    private void closeSink() {
        try {
            sink.close();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "closing a connection of stream " + stream.id(), e);
        }
    }

    @Override
    protected void pump() {
        if (held) {
            return; // release() wakes it
        }
        EventLog.Logged<StreamEntry> head = first;
        if (head != null) {
            if (!writeAll(edge.render(stream, head))) {
                return;
            }
            first = null;
            cursor = head.id();
        }
        if (pingDue) {
            pingDue = false;
            if (!write(edge.heartbeat())) {
                return;
            }
        }
        EventLog<StreamEntry> log = stream.log();
        List<EventLog.Logged<StreamEntry>> batch;
        while (!(batch = log.after(cursor, BATCH)).isEmpty()) {
            for (EventLog.Logged<StreamEntry> logged : batch) {
                if (!writeAll(edge.render(stream, logged))) {
                    return;
                }
                cursor = logged.id();
            }
        }
        if (log.terminated() && cursor >= log.lastId()) {
            close();
        }
    }

    private boolean writeAll(List<StreamEvent> events) {
        for (int i = 0; i < events.size(); i++) {
            if (!write(events.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** Writes one event; on failure the connection is closed (the client is gone) and {@code false} returned. */
    private boolean write(StreamEvent event) {
        boolean ok = false;
        if (!isClosed() && !sink.isClosed()) {
            writeStartedNanos = System.nanoTime();
            try {
                ok = sink.send(event);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "stream " + stream.id() + ": write failed", e);
                ok = false;
            } finally {
                writeStartedNanos = 0;
            }
        }
        if (!ok) {
            close();
        }
        return ok;
    }
}
