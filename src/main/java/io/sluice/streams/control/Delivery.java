package io.sluice.streams.control;

import io.sluice.problems.control.ProblemException;

/**
 * How one SSE connection groups a stream's deltas into {@code message} events: adaptive delivery (API.md section 13,
 * seed 001: a coarser push rate on a slow network, 2g 500 ms / 1024 characters, 3g 200 ms / 512).
 *
 * <p>A connection that asks for it holds consecutive deltas of one kind (answer or reasoning) and sends them as one
 * event when the group reaches {@code minChunk} UTF-16 code units, when {@code flushMs} have passed since its first
 * delta was held, or before any other event (the terminal event, a delta of the other kind). The grouped event
 * carries the id of the last delta in it: ids stay the stream's, so {@code Last-Event-ID} resumes exactly on any
 * connection, at any rate. The stream's log, its coalescing ({@code SLUICE_STREAM_FLUSH_MS}) and its other followers
 * are unchanged; the group is bounded by {@code minChunk} plus one delta (at most {@code SLUICE_STREAM_FLUSH_CHARS}).
 *
 * @param flushMs  the longest a held delta waits, in ms, 50 to 1000; 0 for the stream's own rate (no grouping)
 * @param minChunk the group size that is sent at once, in UTF-16 code units, 0 to 4096; 0 groups by time only
 */
public record Delivery(int flushMs, int minChunk) {

    /** The stream's own rate: each logged delta is one event, as it was coalesced. */
    public static final Delivery DEFAULT = new Delivery(0, 0);
    /** Smallest and largest {@code flushMs} a client may ask for, in ms. */
    public static final int MIN_FLUSH_MS = 50;
    public static final int MAX_FLUSH_MS = 1000;
    /** Largest {@code minChunk} a client may ask for, in UTF-16 code units. */
    public static final int MAX_MIN_CHUNK = 4096;

    public Delivery {
        if (flushMs != 0 && (flushMs < MIN_FLUSH_MS || flushMs > MAX_FLUSH_MS)) {
            throw new IllegalArgumentException("flushMs must be 0 or " + MIN_FLUSH_MS + " to " + MAX_FLUSH_MS);
        }
        if (minChunk < 0 || minChunk > MAX_MIN_CHUNK) {
            throw new IllegalArgumentException("minChunk must be 0 to " + MAX_MIN_CHUNK);
        }
    }

    /**
     * The delivery a request asks for with its {@code flushMs} and {@code minChunk} query parameters (API.md section
     * 13). Neither: {@link #DEFAULT}. {@code minChunk} alone holds a group at most {@code defaultFlushMs}.
     *
     * @param flushMs        the parameter as sent, or {@code null}
     * @param minChunk       the parameter as sent, or {@code null}
     * @param defaultFlushMs the node's coalescing interval ({@code SLUICE_STREAM_FLUSH_MS}), used when only
     *                       {@code minChunk} is given; clamped to 50..1000
     * @throws ProblemException 400 for a value that is not an integer in range
     */
    public static Delivery of(String flushMs, String minChunk, int defaultFlushMs) {
        if (flushMs == null && minChunk == null) {
            return DEFAULT;
        }
        int flush = flushMs == null ? Math.max(MIN_FLUSH_MS, Math.min(MAX_FLUSH_MS, defaultFlushMs))
                : parse("flushMs", flushMs, MIN_FLUSH_MS, MAX_FLUSH_MS);
        int chunk = minChunk == null ? 0 : parse("minChunk", minChunk, 0, MAX_MIN_CHUNK);
        return new Delivery(flush, chunk);
    }

    private static int parse(String name, String value, int min, int max) {
        int parsed;
        try {
            parsed = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(name + " must be an integer from " + min + " to " + max);
        }
        if (parsed < min || parsed > max) {
            throw ProblemException.badRequest(name + " must be from " + min + " to " + max + ", not " + parsed);
        }
        return parsed;
    }

    /** Whether deltas are grouped per connection (anything but {@link #DEFAULT}). */
    public boolean groups() {
        return flushMs > 0;
    }
}
