package io.sluice.streams.control;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The single drainer loop: moves what a reader can take from where it is produced to where it goes, one run at a
 * time per pump, on an executor, and closes exactly once. Every reader of an {@link EventLog} is one: an SSE
 * connection, a WebSocket session, a waiting poll, a multi-agent run following its agents; so is the group
 * committer of the database writes.
 *
 * <p>{@link #wake()} may be called from any thread, as often as news comes, and returns at once: the first wake
 * since the last run schedules {@link #pump()} on the executor; wakes during a run make it pump again before it
 * stops, so no news is ever missed and no two runs overlap. A pump that waits for an asynchronous completion (a
 * WebSocket send) returns from {@link #pump()} and is woken by the completion.
 *
 * <p>{@link #close()} runs {@link #closed()} exactly once, whichever thread calls it and however often
 * (compare-and-set, not a check-then-set on a volatile). After it, wakes do nothing. When the executor refuses the
 * run (it is shutting down), the pump runs on the waking thread instead, so nothing produced is lost on undeploy.
 */
public abstract class Pump implements Follower {

    private static final Logger LOG = Logger.getLogger(Pump.class.getName());

    private final Executor executor;
    private final AtomicInteger wakeups = new AtomicInteger();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param executor runs {@link #pump()}; a pump that may block (a client write) needs an executor of its own */
    protected Pump(Executor executor) {
        this.executor = executor;
    }

    /** Schedules a run of {@link #pump()} unless one is scheduled or running; never blocks. */
    @Override
    public final void wake() {
        if (!closed.get() && wakeups.getAndIncrement() == 0) {
            try {
                executor.execute(this::drain);
            } catch (RejectedExecutionException e) {
                LOG.log(Level.FINE, "executor refused a pump run; running it on the waking thread", e);
                drain();
            }
        }
    }

    /**
     * Closes the pump: {@link #closed()} runs once, on the calling thread.
     *
     * @return whether this call closed it (false when it was already closed)
     */
    public final boolean close() {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        closed();
        return true;
    }

    /** Whether {@link #close()} has been called. */
    public final boolean isClosed() {
        return closed.get();
    }

    /**
     * Moves what can be moved now. Runs on the executor, never concurrently with itself, and again after any wake
     * that came while it ran. It may {@link #close()} the pump.
     */
    protected abstract void pump();

    /** Runs once, when the pump closes; releases what the pump holds. */
    protected void closed() {
    }

    private void drain() {
        int seen;
        do {
            seen = wakeups.get();
            if (closed.get()) {
                return;
            }
            try {
                pump();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a pump failed and is closed", e);
                close();
                return;
            }
        } while (!wakeups.compareAndSet(seen, 0));
    }
}
