package io.sluice.streams.control;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>It follows its stream from {@link #start()}, and writes once its sink is open ({@link EventSink#whenOpen}).
 *
 * <p>A connection with a grouping {@link Delivery} (API.md section 13, adaptive delivery) sends consecutive deltas of
 * one kind as one {@code message} event, under the id of the last; its group, at most {@code minChunk} plus one delta,
 * is sent when full, when {@code flushMs} have passed since its first delta (a timer wakes the pump then), or before
 * any other event.
 *
 * <p>Liveness (README, "Extensions"): while its stream is generating, {@link #keepAlive} sends a {@code ping} after a
 * silence, so that a client can tell a slow answer from a dead connection within seconds, not heartbeats.
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
    private final Delivery delivery;
    private final ScheduledExecutorService timers;
    private volatile Runnable onClose = () -> { };
    /** When the last frame was written, or the connection made ({@link System#nanoTime()}). */
    private volatile long lastWriteNanos = System.nanoTime();
    /** Whether a timer will wake the pump for the group's deadline. */
    private volatile boolean groupTimer;
    private volatile boolean pingDue;
    private volatile boolean abandoned;
    private volatile long writeStartedNanos;
    private volatile boolean open;
    // touched by pump() only, which never runs concurrently with itself
    private EventLog.Logged<StreamEntry> first;
    private long cursor;
    // the held group of a grouping delivery: its deltas' text, kind, start, last id, answer length and final flag
    private final StringBuilder group = new StringBuilder();
    private DeltaCoalescer.Kind groupKind;
    private int groupFrom;
    private long groupLastId;
    private int groupContentEnd;
    private boolean groupFinal;
    private long groupSinceNanos;

    /**
     * @param from     where to start reading (after an id, optionally with the rest of a delta first)
     * @param clientId the tab's id, never {@code null}
     * @param edge     renders the entries (and the heartbeat) as frames
     * @param sink     where the frames are written
     * @param writers  runs the writes
     */
    public SseConnection(Stream stream, Stream.Resumption from, String clientId, SseEdge edge, EventSink sink,
                         Executor writers) {
        this(stream, from, clientId, edge, sink, writers, Delivery.DEFAULT, null);
    }

    /**
     * @param delivery how deltas are grouped into events on this connection
     * @param timers   wakes the pump at a group's deadline; may be {@code null} for {@link Delivery#DEFAULT}
     * @see #SseConnection(Stream, Stream.Resumption, String, SseEdge, EventSink, Executor)
     */
    public SseConnection(Stream stream, Stream.Resumption from, String clientId, SseEdge edge, EventSink sink,
                         Executor writers, Delivery delivery, ScheduledExecutorService timers) {
        super(writers);
        if (delivery.groups() && timers == null) {
            throw new IllegalArgumentException("a grouping delivery needs timers");
        }
        this.delivery = delivery;
        this.timers = timers;
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

    /** Starts following: attaches to the stream, and writes once the sink is open. */
    @Override
    public void start() {
        stream.follow(this);
        sink.whenOpen(() -> {
            open = true;
            wake();
        });
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

    /**
     * Sends a {@code ping} when the stream is still generating and nothing was written for {@code silenceNanos}
     * (called by the {@link ConnectionGuard}'s liveness tick). Never blocks.
     *
     * @param now          {@link System#nanoTime()}
     * @param silenceNanos the silence, in ns, after which a generating stream's connection is pinged
     */
    @Override
    public void keepAlive(long now, long silenceNanos) {
        if (now - lastWriteNanos >= silenceNanos && !pingDue && !stream.log().terminated()) {
            ping();
        }
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

    @Override
    protected void closed() {
        stream.unfollow(this);
        onClose.run();
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
        if (!open) {
            return; // the sink's whenOpen wakes it
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
                if (delivery.groups()) {
                    if (logged.entry() instanceof StreamEntry.Delta d) {
                        if (!hold(logged.id(), d)) {
                            return;
                        }
                        cursor = logged.id();
                        continue;
                    }
                    if (!sendGroup()) {
                        return;
                    }
                }
                if (!writeAll(edge.render(stream, logged))) {
                    return;
                }
                cursor = logged.id();
            }
        }
        if (groupKind != null) {
            long now = System.nanoTime();
            long due = groupSinceNanos + TimeUnit.MILLISECONDS.toNanos(delivery.flushMs());
            if (now - due >= 0) {
                if (!sendGroup()) {
                    return;
                }
            } else if (!groupTimer) {
                groupTimer = true;
                try {
                    timers.schedule(() -> {
                        groupTimer = false;
                        wake();
                    }, due - now, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException stopping) { // undeploy: send it now rather than never
                    groupTimer = false;
                    if (!sendGroup()) {
                        return;
                    }
                }
            }
        }
        if (log.terminated() && cursor >= log.lastId()) {
            close();
        }
    }

    /**
     * Adds a delta to the held group (a grouping delivery), sending the group first when the delta is of the other
     * kind, and after it when it is full or final.
     *
     * @return {@code false} when a write failed (the connection is closed)
     */
    private boolean hold(long id, StreamEntry.Delta d) {
        if (groupKind != null && groupKind != d.kind() && !sendGroup()) {
            return false;
        }
        if (groupKind == null) {
            groupKind = d.kind();
            groupFrom = d.from();
            groupSinceNanos = System.nanoTime();
        }
        group.append(d.text());
        groupLastId = id;
        groupContentEnd = d.contentEnd();
        groupFinal = d.isFinal();
        boolean full = delivery.minChunk() > 0 && group.length() >= delivery.minChunk();
        return !(full || d.isFinal()) || sendGroup();
    }

    /**
     * Sends the held group as one {@code message} event under its last delta's id; nothing when none is held.
     *
     * @return {@code false} when the write failed (the connection is closed)
     */
    private boolean sendGroup() {
        if (groupKind == null) {
            return true;
        }
        StreamEntry.Delta merged = new StreamEntry.Delta(groupKind, groupFrom, group.toString(), groupContentEnd,
                groupFinal);
        long id = groupLastId;
        groupKind = null;
        group.setLength(0);
        if (group.capacity() > 2 * Delivery.MAX_MIN_CHUNK) {
            group.trimToSize(); // a catch-up burst's group does not stay allocated
        }
        return writeAll(edge.render(stream, new EventLog.Logged<>(id, merged)));
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
                lastWriteNanos = System.nanoTime();
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
