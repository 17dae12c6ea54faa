package io.sluice.platform.control;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A warning that is written at most once per window however often it happens: for failures that repeat once per
 * stream or per request while a shared dependency is down (a Redis outage hits every stream that starts, appends or
 * ends), where one line per occurrence would flood the server log with thousands of copies of the same line.
 *
 * <p>The first occurrence is written at once. Occurrences within {@code windowMillis} of the last written one are
 * counted, not written; the first occurrence after the window is written with that count appended ("(and 41 more
 * like it since the last one logged)"). A count left when the failures stop is not written on its own: the last line
 * written already says the failure was happening. Thread-safe; the cost is one short lock per occurrence, on failure
 * paths only.
 */
public final class ThrottledWarning {

    private final Logger log;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private boolean written;
    private long lastWritten;
    private long suppressed;

    /** The window of {@link #ThrottledWarning(Logger)}: one line a minute at most, in ms. */
    public static final long MINUTE_MILLIS = 60_000;

    /**
     * A warning written at most once a minute ({@value #MINUTE_MILLIS} ms).
     *
     * @param log where the warning is written, at {@link Level#WARNING}
     */
    public ThrottledWarning(Logger log) {
        this(log, MINUTE_MILLIS);
    }

    /**
     * @param log          where the warning is written, at {@link Level#WARNING}
     * @param windowMillis the least time between two written lines, in ms (greater than 0)
     * @throws IllegalArgumentException when {@code windowMillis} is not positive
     */
    public ThrottledWarning(Logger log, long windowMillis) {
        this(log, windowMillis, System::nanoTime);
    }

    /** As {@link #ThrottledWarning(Logger, long)}, with the clock ({@link System#nanoTime()} units) given, for tests. */
    ThrottledWarning(Logger log, long windowMillis, LongSupplier nanoTime) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("windowMillis must be positive: " + windowMillis);
        }
        this.log = log;
        this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMillis);
        this.nanoTime = nanoTime;
    }

    /**
     * One occurrence: written unless a line was written within the window.
     *
     * @param message the line, built only when it is written
     */
    public void warn(Supplier<String> message) {
        warn(message, null);
    }

    /**
     * One occurrence with its cause: written (with the cause's stack trace) unless a line was written within the
     * window.
     *
     * @param message the line, built only when it is written
     * @param cause   the failure, or null to write no stack trace
     */
    public void warn(Supplier<String> message, Throwable cause) {
        long more;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (written && now - lastWritten < windowNanos) {
                suppressed++;
                return;
            }
            more = written ? suppressed : 0;
            written = true;
            lastWritten = now;
            suppressed = 0;
        }
        if (!log.isLoggable(Level.WARNING)) {
            return;
        }
        String line = message.get();
        if (more > 0) {
            line += " (and " + more + " more like it since the last one logged)";
        }
        log.log(Level.WARNING, line, cause);
    }
}
