package io.sluice.streams.control;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's one clock for coalesced deltas (seed behaviour: later deltas are held at most {@code flushMillis}):
 * instead of a timer task per held piece, streams tell the ticker when their held text is due, and one periodic
 * task appends what is due. Every stream holds for the same period, so deadlines arrive in (nearly) increasing
 * order and a FIFO queue serves as the timer wheel: each tick takes the due ones from its head. A piece therefore
 * waits between {@code flushMillis} and {@code flushMillis} plus one tick.
 *
 * <p>Cost: O(1) per held piece, and one task per tick however many streams run. Stale entries (text that left
 * earlier because {@code flushChars} were reached) find nothing due and are dropped.
 */
public final class FlushTicker {

    private static final Logger LOG = Logger.getLogger(FlushTicker.class.getName());

    private record Due(LocalStream stream, long deadlineNanos) {
    }

    private final ConcurrentLinkedQueue<Due> queue = new ConcurrentLinkedQueue<>();
    private final ScheduledFuture<?> task;

    /**
     * Starts ticking.
     *
     * @param timers      runs the tick; it only appends to logs in memory
     * @param periodNanos the tick, in ns (at least 1 ms is sensible; a fifth of {@code flushMillis} by default)
     */
    public FlushTicker(ScheduledExecutorService timers, long periodNanos) {
        this.task = timers.scheduleAtFixedRate(this::tick, periodNanos, periodNanos, TimeUnit.NANOSECONDS);
    }

    /** The tick for {@code flushMillis}: a fifth of it, between 1 and 10 ms, in ns. */
    public static long periodFor(int flushMillis) {
        return TimeUnit.MILLISECONDS.toNanos(Math.max(1, Math.min(10, flushMillis / 5)));
    }

    /** {@code stream} holds text that is due at {@code deadlineNanos} ({@link System#nanoTime()}). */
    void due(LocalStream stream, long deadlineNanos) {
        queue.add(new Due(stream, deadlineNanos));
    }

    /** Appends every held piece that is due now. */
    void tick() {
        long now = System.nanoTime();
        Due head;
        while ((head = queue.peek()) != null && head.deadlineNanos() - now <= 0) {
            queue.poll();
            try {
                head.stream().flushDue(now);
            } catch (RuntimeException e) { // one stream's fault must not stop the node's clock
                LOG.log(Level.WARNING, "stream " + head.stream().id() + ": a held delta could not be flushed", e);
            }
        }
    }

    /** Stops ticking (undeploy). */
    public void stop() {
        task.cancel(false);
    }
}
