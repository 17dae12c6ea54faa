package io.sluice.streams.control;

import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One SSE connection following one stream (API.md section 3). It holds a cursor into the stream's log,
 * not a copy of the events: a reader that falls behind is caught up from the log, never skipped, and its
 * memory does not grow with the lag. Writes happen on the stream executor, one task at a time per
 * connection, in batches of at most {@value #BATCH} events.
 *
 * <p>It closes itself when the terminal event has been written, when a write fails (the client is gone:
 * that is not a stop, the stream goes on), or when the {@link ConnectionGuard} replaces or reaps it.
 */
public final class SseConnection implements Follower, GuardedConnection {

    private static final Logger LOG = Logger.getLogger(SseConnection.class.getName());
    /** Most events written per read of the log. */
    static final int BATCH = 64;

    private final Stream stream;
    private final String clientId;
    private final SseEventSink sink;
    private final Sse sse;
    private final Executor executor;
    private final AtomicInteger wakeups = new AtomicInteger();
    private volatile Runnable onClose = () -> { };
    private volatile StreamEvent first;
    private volatile long cursor;
    private volatile boolean closed;
    private volatile boolean pingDue;
    private volatile long writeStartedNanos;

    /**
     * @param resumption where to start reading (after an id, optionally with a synthetic first event)
     * @param clientId   the tab's id, never {@code null}
     */
    public SseConnection(Stream stream, Stream.Resumption resumption, String clientId, SseEventSink sink, Sse sse,
                         Executor executor) {
        this.stream = stream;
        this.clientId = clientId;
        this.sink = sink;
        this.sse = sse;
        this.executor = executor;
        this.cursor = resumption.afterId();
        this.first = resumption.first();
    }

    /** Starts following: attaches to the stream, which wakes this connection. */
    @Override
    public void open(Runnable onClose) {
        this.onClose = onClose;
        stream.attach(this);
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

    public boolean closed() {
        return closed;
    }

    /** Queues a {@code ping} event (API.md section 2: no id). */
    @Override
    public void ping() {
        pingDue = true;
        wake();
    }

    /**
     * How long this connection has been unable to write, in ns: the age of a write still in progress, or
     * 0 when no write is blocked.
     */
    @Override
    public long stalledNanos(long now) {
        long started = writeStartedNanos;
        return started == 0 ? 0 : now - started;
    }

    @Override
    public void wake() {
        if (!closed && wakeups.getAndIncrement() == 0) {
            executor.execute(this::drain);
        }
    }

    /** Closes the connection and forgets it; the stream goes on. Idempotent. */
    @Override
    public void close() {
        if (detach()) {
            closeSink();
        }
    }

    /**
     * Forgets a connection whose writes are stuck (the client stopped reading): detaches it at once, so
     * the stream and its memory no longer depend on it, and closes its sink off the calling thread.
     */
    @Override
    public void abandon() {
        if (detach()) {
            executor.execute(this::closeSink);
        }
    }

    private boolean detach() {
        if (closed) {
            return false;
        }
        closed = true;
        stream.detach(this);
        onClose.run();
        return true;
    }

    private void closeSink() {
        try {
            sink.close();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "closing a connection of stream " + stream.id(), e);
        }
    }

    /** The writer: runs on the executor, at most one at a time per connection (wakeups counter). */
    private void drain() {
        int seen;
        do {
            seen = wakeups.get();
            if (closed) {
                return;
            }
            StreamEvent head = first;
            if (head != null) {
                first = null;
                if (!write(head)) {
                    return;
                }
                cursor = head.id();
            }
            if (pingDue) {
                pingDue = false;
                if (!write(new StreamEvent(0, "ping", "{\"timestamp\":" + Instant.now().getEpochSecond() + "}"))) {
                    return;
                }
            }
            while (true) {
                List<StreamEvent> batch = stream.eventsAfter(cursor, BATCH);
                if (batch.isEmpty()) {
                    break;
                }
                for (StreamEvent event : batch) {
                    if (!write(event)) {
                        return;
                    }
                    cursor = event.id();
                }
            }
            if (stream.terminated() && cursor >= stream.lastEventId()) {
                close();
                return;
            }
        } while (!wakeups.compareAndSet(seen, 0));
    }

    /** Writes one event; on failure the connection is closed (the client is gone) and {@code false} returned. */
    private boolean write(StreamEvent event) {
        if (closed) {
            return false;
        }
        boolean ok;
        if (sink.isClosed()) {
            ok = false;
        } else {
            OutboundSseEvent.Builder builder = sse.newEventBuilder().name(event.name()).data(event.data());
            if (event.id() > 0) {
                builder.id(Long.toString(event.id()));
            }
            writeStartedNanos = System.nanoTime();
            try {
                sink.send(builder.build()).toCompletableFuture().join();
                ok = true;
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
