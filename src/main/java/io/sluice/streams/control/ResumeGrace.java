package io.sluice.streams.control;

import java.util.concurrent.TimeUnit;

/**
 * The resume grace rule (API.md section 3, "a network drop is not a stop"), shared by streams and agent runs:
 * while something is followed, it goes on; once nothing follows it and nothing attended to it (a new follower, a
 * poll) for the grace period, it is abandoned. Times are {@link System#nanoTime()}; thread-safe.
 */
public final class ResumeGrace {

    private final long graceMillis;
    private volatile long lastAttendedNanos = System.nanoTime();
    private volatile long lastDetachedNanos = lastAttendedNanos;

    /** @param graceMillis the grace period, in ms */
    public ResumeGrace(long graceMillis) {
        this.graceMillis = graceMillis;
    }

    /** The grace period, in ms: the delay of the first check. */
    public long graceMillis() {
        return graceMillis;
    }

    /** The owner attended (a follower attached, a poll came): the grace starts again from now. */
    public void attended() {
        lastAttendedNanos = System.nanoTime();
    }

    /** A follower left: with none left, the grace is counted from now. */
    public void detached() {
        lastDetachedNanos = System.nanoTime();
    }

    /** Whether the owner attended after {@code nanos} ({@link System#nanoTime()}). */
    public boolean attendedAfter(long nanos) {
        return lastAttendedNanos > nanos;
    }

    /**
     * When to check again, in ms, or 0 when the grace has run out.
     *
     * @param followed whether something follows now (then the full period, at least 1 ms otherwise)
     */
    public long nextCheckMillis(boolean followed) {
        long graceNanos = TimeUnit.MILLISECONDS.toNanos(graceMillis);
        if (followed) {
            return Math.max(1, graceMillis);
        }
        long unattended = System.nanoTime() - Math.max(lastAttendedNanos, lastDetachedNanos);
        return unattended >= graceNanos ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(graceNanos - unattended));
    }
}
