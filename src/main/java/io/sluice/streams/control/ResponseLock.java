package io.sluice.streams.control;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletRequest;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps an {@link EventSink}'s writes and its close off an asynchronous servlet response that the container has ended
 * (issue 14). A container ends such a response on a thread of its own: after {@code AsyncContext.complete()}, or when a
 * write failed or the client went away ({@code onError}). Then it may give the very same request and response objects
 * to the next connection: Tomcat recycles them with its processors. A write, a flush or a close that reaches them
 * after that acts on the next connection's response. On Tomcat it did: a failed write of a cut connection recorded its
 * {@code IOException} in the response that a resumed connection was given meanwhile, whose first flush then failed.
 *
 * <p>The rule: every write and the close of the sink run under this lock ({@link #write}, {@link #close}), and the
 * container's {@code onError} and {@code onTimeout} take the same lock before they return, so the container finishes
 * ending the response only once no write is inside it; from then on {@link #write} refuses and {@link #close} does
 * nothing. {@code onComplete} marks the end without waiting: it follows a {@code complete()}, which only a write or
 * close under this lock or the container itself (after {@code onError} or {@code onTimeout}) calls, and Tomcat calls it
 * holding a monitor that a writer inside {@code complete()} needs. Where the container had not started the asynchronous
 * response when the sink was made ({@link #watch} returns {@code false}), the lock still orders writes and close.
 *
 * <p>One exception to the wait: a container that calls {@code onError} on an I/O thread of its non-blocking transport
 * (WildFly's Undertow, on XNIO) is not made to wait, since a writer blocked in a write may itself wait for that thread:
 * each client that reset its connection then held an I/O thread for {@value #END_WAIT_MS} ms, and with tabs cut again
 * and again the server stood still (issue 14, seen in {@code StreamsIT} on WildFly). The response is marked ended at
 * once there; Undertow makes a new exchange per request, so the write in progress cannot reach another one.
 */
public final class ResponseLock implements AsyncListener {

    private static final Logger LOG = Logger.getLogger(ResponseLock.class.getName());
    /** Longest wait of the container's {@code onError} or {@code onTimeout} for a write in progress, in ms. */
    static final long END_WAIT_MS = 10_000;

    private final ReentrantLock lock = new ReentrantLock();
    private final Runnable closer;
    private volatile boolean ended;
    private volatile boolean closeAsked;
    private volatile boolean closeDone;

    /** @param closer ends the response (the sink's own close); run at most once, under the lock, never after the end */
    public ResponseLock(Runnable closer) {
        this.closer = closer;
    }

    /**
     * Listens to the request's asynchronous context, when the container has started one.
     *
     * @return whether the lock now hears of the container's end of the response
     */
    public boolean watch(ServletRequest request) {
        if (request == null) {
            return false;
        }
        try {
            if (!request.isAsyncStarted()) {
                return false;
            }
            request.getAsyncContext().addListener(this);
            return true;
        } catch (IllegalStateException e) {
            LOG.log(Level.FINE, "the response's end cannot be watched", e);
            return false;
        }
    }

    /** Listens to {@code async}'s end; call it before the first write. */
    public void watch(AsyncContext async) {
        async.addListener(this);
    }

    /**
     * Runs one write under the lock, unless the response was closed or ended.
     *
     * @param write writes and flushes; returns whether it succeeded
     * @return {@code write}'s result, or {@code false} without running it
     */
    public boolean write(BooleanSupplier write) {
        lock.lock();
        try {
            if (ended || closeDone) {
                return false;
            }
            return write.getAsBoolean();
        } finally {
            lock.unlock();
            closeIfAsked();
        }
    }

    /**
     * Closes the response: at once when no write is in progress, else right after that write, by its thread (a write
     * blocked on a client that reads nothing is not waited for). Idempotent; nothing once the container ended it.
     */
    public void close() {
        closeAsked = true;
        closeIfAsked();
    }

    private void closeIfAsked() {
        if (lock.isHeldByCurrentThread()) {
            return; // asked from inside a write: that write's end closes
        }
        // whoever lets go of the lock last sees closeAsked: a close asked during a write is never lost
        while (closeAsked && !closeDone && lock.tryLock()) {
            try {
                if (!closeDone) {
                    closeDone = true;
                    if (!ended) {
                        closer.run();
                    }
                }
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "closing a response", e);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Whether the sink was asked to close or the container ended the response: no more writes. */
    public boolean isClosed() {
        return closeAsked || ended;
    }

    /** Whether the container ended the response (complete, error or timeout). */
    public boolean ended() {
        return ended;
    }

    @Override
    public void onComplete(AsyncEvent event) {
        ended = true;
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        endAfterWrite();
    }

    @Override
    public void onError(AsyncEvent event) {
        endAfterWrite();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // the response is never dispatched again
    }

    /**
     * Whether the calling thread is an I/O thread of XNIO (WildFly's Undertow), which must never block: its class
     * extends {@code org.xnio.XnioIoThread}. Compared by name, as Sluice does not depend on XNIO.
     */
    static boolean onIoThread() {
        for (Class<?> type = Thread.currentThread().getClass(); type != null; type = type.getSuperclass()) {
            if (type.getName().equals("org.xnio.XnioIoThread")) {
                return true;
            }
        }
        return false;
    }

    /** The container is ending the response: waits for a write in progress, so that none outlives the response. */
    private void endAfterWrite() {
        boolean locked = lock.tryLock();
        try {
            if (!locked && !onIoThread()) {
                locked = lock.tryLock(END_WAIT_MS, TimeUnit.MILLISECONDS);
                if (!locked) {
                    LOG.warning(() -> "a write was still in the response " + END_WAIT_MS
                            + " ms after the container began to end it");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ended = true;
            if (locked) {
                lock.unlock();
            }
        }
    }
}
