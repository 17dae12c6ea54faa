package io.sluice.streams.control;

import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One SSE connection following one stream (API.md section 3): a {@link Pump} with a cursor into the stream's log, not
 * a copy of its events. A reader that falls behind is caught up from the log, never skipped, and its memory does not
 * grow with the lag. It writes on the writers' executor, at most {@value #BATCH} events per read of the log; a write
 * blocks only that executor's thread, never the threads that parse upstream bytes, save results or run timers.
 *
 * <p>It closes itself after the terminal event, when a write fails (the client is gone: that is not a stop, the
 * stream goes on), or when the {@link ConnectionGuard} replaces or reaps it.
 */
public final class SseConnection extends Pump implements GuardedConnection {

    private static final Logger LOG = Logger.getLogger(SseConnection.class.getName());
    /** Most events written per read of the log. */
    static final int BATCH = 64;

    private final Stream stream;
    private final String clientId;
    private final SseEventSink sink;
    private final Sse sse;
    private final Executor writers;
    private volatile Runnable onClose = () -> { };
    private volatile boolean pingDue;
    private volatile boolean abandoned;
    private volatile long writeStartedNanos;
    // touched by pump() only, which never runs concurrently with itself
    private EventLog.Logged<StreamEntry> first;
    private long cursor;

    /**
     * @param from     where to start reading (after an id, optionally with the rest of a delta first)
     * @param clientId the tab's id, never {@code null}
     * @param writers  runs the writes
     */
    public SseConnection(Stream stream, Stream.Resumption from, String clientId, SseEventSink sink, Sse sse,
                         Executor writers) {
        super(writers);
        this.stream = stream;
        this.clientId = clientId;
        this.sink = sink;
        this.sse = sse;
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

    /** Queues a {@code ping} event (API.md section 2: no id). */
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
        EventLog.Logged<StreamEntry> head = first;
        if (head != null) {
            if (!write(SseEvents.render(head.id(), head.entry()))) {
                return;
            }
            first = null;
            cursor = head.id();
        }
        if (pingDue) {
            pingDue = false;
            if (!write(new StreamEvent(0, "ping", "{\"timestamp\":" + Instant.now().getEpochSecond() + "}"))) {
                return;
            }
        }
        EventLog<StreamEntry> log = stream.log();
        List<EventLog.Logged<StreamEntry>> batch;
        while (!(batch = log.after(cursor, BATCH)).isEmpty()) {
            for (EventLog.Logged<StreamEntry> logged : batch) {
                if (!write(stream.sse(logged))) {
                    return;
                }
                cursor = logged.id();
            }
        }
        if (log.terminated() && cursor >= log.lastId()) {
            close();
        }
    }

    /** Writes one event; on failure the connection is closed (the client is gone) and {@code false} returned. */
    private boolean write(StreamEvent event) {
        boolean ok = false;
        if (!isClosed() && !sink.isClosed()) {
            OutboundSseEvent.Builder builder = sse.newEventBuilder().name(event.name()).data(event.data());
            if (event.id() > 0) {
                builder.id(Long.toString(event.id()));
            }
            writeStartedNanos = System.nanoTime();
            try {
                // Jersey writes synchronously and reports an I/O failure as the stage's value, others complete the
                // stage exceptionally: both mean the client is gone
                ok = !(sink.send(builder.build()).toCompletableFuture().join() instanceof Throwable);
            } catch (CompletionException | IllegalStateException e) {
                ok = false;
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
