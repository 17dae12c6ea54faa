package io.sluice.providers.control;

import io.sluice.platform.control.JsonText;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The raw record of one upstream response (seed 002's {@code raw_response}; API.md section 13): the data of each
 * server-sent event the upstream sent, as received and in order, with its arrival time, bounded in bytes, and encoded
 * once, when the answer is saved, as one compact value.
 *
 * <p><b>What is kept.</b> Each event's data (one {@code data:} line; the lines of a multi-line event joined with LF,
 * WHATWG rules, {@link EventStreamParser}) becomes one chunk: the text as it came when it is one JSON object (a
 * {@code chat.completion.chunk}, or an in-stream {@code {"error":...}}), else a JSON string holding the text (a line
 * that is not JSON, or JSON but not an object: kept for debugging, where the stream failed with
 * {@code UPSTREAM_PROTOCOL}). The {@code [DONE]} sentinel is no chunk: its arrival time is {@code doneAt}. Also kept:
 * the upstream's HTTP status. Comments, heartbeats and an error status's body are not events and are not kept.
 *
 * <p><b>The bound</b> ({@code SLUICE_RAW_MAX_BYTES}). Each chunk kept counts its UTF-8 bytes plus
 * {@value #LINE_OVERHEAD} (its separator and its arrival time, an {@code int}). The first chunk that would pass the
 * bound is dropped, with every one after it, and {@code truncated} is true: the chunks kept are always a prefix of the
 * stream's. Memory: nothing is allocated before the first chunk; chunks are copied into segments of
 * {@value #FIRST_SEGMENT} bytes growing to {@value #MAX_SEGMENT} (no copy on growth, no array a G1 collector would
 * treat as humongous), never more in all than the bound; the arrival times are one {@code int[]} that doubles as it
 * fills. So a record holds at most the bound, plus the unused end of its last segment and of its times array.
 *
 * <p><b>Encoding</b> ({@link #encode()}, {@link #decode(byte[])}): the JSON object
 * {@code {"chunks":[...],"receivedAt":[ms,...],"truncated":bool,"status":N|null,"doneAt":ms|null}} in UTF-8, gzipped
 * (RFC 1952; the chunks of one stream repeat their ids and field names, and compress 20 to 50 times). Times are whole
 * ms since the upstream request was sent ({@link #sent}), never decreasing ({@link System#nanoTime()}).
 *
 * <p>Thread safety: the parser's serialized callbacks add to it while a stop on another thread may encode it; every
 * method takes the object's lock, and the first {@link #encode()} freezes it (later chunks are ignored) and frees its
 * buffers.
 */
public final class RawCapture {

    /** Size of the first segment, in bytes: a few chunks of a short answer fit in it. */
    static final int FIRST_SEGMENT = 512;
    /** Largest segment, in bytes: what a record may hold allocated beyond what it uses. */
    static final int MAX_SEGMENT = 4 * 1024;
    /** What each chunk kept counts beyond its UTF-8 bytes: the separator and the arrival time. */
    static final int LINE_OVERHEAD = 5;

    private static final byte[] SEPARATOR = {','};

    private final int maxBytes;
    private long sentNanos;
    private boolean sent;
    private int status;
    private int doneAtMillis = -1;
    private boolean truncated;
    /** Bytes counted against the bound so far. */
    private long counted;
    /** Bytes stored in the segments (the chunks and their separators). */
    private int stored;
    private byte[][] segments;
    private int segmentCount;
    /** Bytes used in the last segment. */
    private int position;
    private int[] receivedAt;
    private int chunks;
    private byte[] encoded;

    /**
     * @param maxBytes the bound, in bytes ({@code SLUICE_RAW_MAX_BYTES}); 0 keeps no chunk
     * @throws IllegalArgumentException when {@code maxBytes} is negative
     */
    public RawCapture(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must not be negative, was " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** The upstream request was sent at {@code nanos} ({@link System#nanoTime()}): arrival times count from here. */
    public synchronized void sent(long nanos) {
        if (!sent) {
            sent = true;
            sentNanos = nanos;
        }
    }

    /** The upstream answered with this HTTP status (its headers arrived). */
    public synchronized void status(int httpStatus) {
        if (encoded == null) {
            status = httpStatus;
        }
    }

    /**
     * One event's data arrived at {@code nanos} ({@link System#nanoTime()}).
     *
     * @param data   the event's data, never {@code null}
     * @param object whether {@code data} is exactly one JSON object (it parsed as a chunk); else it is kept as a JSON
     *               string of its text
     */
    public synchronized void chunk(String data, boolean object, long nanos) {
        if (encoded != null || truncated) {
            return;
        }
        byte[] bytes = (object ? data : JsonText.quote(new StringBuilder(data.length() + 16), data).toString())
                .getBytes(StandardCharsets.UTF_8);
        long cost = (long) bytes.length + LINE_OVERHEAD;
        if (counted + cost > maxBytes) {
            truncated = true;
            return;
        }
        counted += cost;
        if (chunks > 0) {
            write(SEPARATOR);
        }
        write(bytes);
        if (receivedAt == null || chunks == receivedAt.length) {
            receivedAt = Arrays.copyOf(receivedAt == null ? new int[0] : receivedAt,
                    receivedAt == null ? 8 : receivedAt.length * 2);
        }
        receivedAt[chunks++] = millisSinceSent(nanos);
    }

    /** The {@code [DONE]} sentinel arrived at {@code nanos} ({@link System#nanoTime()}). */
    public synchronized void done(long nanos) {
        if (encoded == null && doneAtMillis < 0) {
            doneAtMillis = millisSinceSent(nanos);
        }
    }

    /**
     * The record, gzipped (see the class comment); the first call freezes the record and frees its buffers, later
     * calls return the same bytes (a save that is tried again stores the same value).
     *
     * @return never {@code null}; the caller must not change it
     */
    public synchronized byte[] encode() {
        if (encoded != null) {
            return encoded;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(128, stored / 8));
        try (OutputStream out = new GZIPOutputStream(bytes, 4096)) {
            out.write(ascii("{\"chunks\":["));
            for (int i = 0; i < segmentCount; i++) {
                out.write(segments[i], 0, i == segmentCount - 1 ? position : segments[i].length);
            }
            StringBuilder tail = new StringBuilder(32 + chunks * 6).append("],\"receivedAt\":[");
            for (int i = 0; i < chunks; i++) {
                if (i > 0) {
                    tail.append(',');
                }
                tail.append(receivedAt[i]);
            }
            tail.append("],\"truncated\":").append(truncated)
                    .append(",\"status\":").append(status > 0 ? Integer.toString(status) : "null")
                    .append(",\"doneAt\":").append(doneAtMillis >= 0 ? Integer.toString(doneAtMillis) : "null")
                    .append('}');
            out.write(ascii(tail.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory failed", e); // a ByteArrayOutputStream does not fail
        }
        encoded = bytes.toByteArray();
        segments = null;
        receivedAt = null;
        return encoded;
    }

    /**
     * The JSON text of an {@linkplain #encode() encoded} record.
     *
     * @throws IllegalArgumentException when {@code encoded} is not a gzipped record
     */
    public static String decode(byte[] encoded) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(encoded))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("not an encoded raw record", e);
        }
    }

    /** Chunks kept so far. */
    public synchronized int chunks() {
        return chunks;
    }

    /** Whether a chunk was dropped at the bound. */
    public synchronized boolean truncated() {
        return truncated;
    }

    /** Bytes counted against the bound so far (UTF-8 bytes of the chunks kept, plus {@value #LINE_OVERHEAD} each). */
    public synchronized long countedBytes() {
        return counted;
    }

    /** Bytes this record holds in its arrays now (segments and times, allocated length), for measurements. */
    public synchronized long heldBytes() {
        if (encoded != null) {
            return encoded.length;
        }
        long held = receivedAt == null ? 0 : 4L * receivedAt.length;
        for (int i = 0; i < segmentCount; i++) {
            held += segments[i].length;
        }
        return held;
    }

    private int millisSinceSent(long nanos) {
        if (!sent) {
            sent(nanos);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(nanos - sentNanos);
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, millis));
    }

    /** Appends to the segments; the caller has checked the bound, so a new segment always has room. */
    private void write(byte[] bytes) {
        int offset = 0;
        while (offset < bytes.length) {
            if (segmentCount == 0 || position == segments[segmentCount - 1].length) {
                addSegment();
            }
            byte[] last = segments[segmentCount - 1];
            int n = Math.min(bytes.length - offset, last.length - position);
            System.arraycopy(bytes, offset, last, position, n);
            position += n;
            offset += n;
            stored += n;
        }
    }

    private void addSegment() {
        int size = segmentCount == 0 ? FIRST_SEGMENT : Math.min(MAX_SEGMENT, 2 * segments[segmentCount - 1].length);
        size = (int) Math.max(1, Math.min(size, maxBytes - (long) stored));
        if (segments == null) {
            segments = new byte[4][];
        } else if (segmentCount == segments.length) {
            segments = Arrays.copyOf(segments, segmentCount * 2);
        }
        segments[segmentCount++] = new byte[size];
        position = 0;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
