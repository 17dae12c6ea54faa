package io.sluice.providers.control;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An incremental parser of a {@code text/event-stream} body (server-sent events), following the rules of
 * the WHATWG HTML Living Standard, section 9.2.6 "Parsing an event stream" and "Interpreting an event
 * stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 *
 * <p>Shape of the input: raw bytes, pushed with {@link #feed(ByteBuffer)} in pieces that may be split
 * anywhere (inside a multi-byte UTF-8 sequence, between a CR and its LF, inside a BOM), then
 * {@link #end()} once the stream is over. The rules applied:
 * <ul>
 *   <li>one UTF-8 byte order mark ({@code EF BB BF}) at the very start of the stream is skipped; anywhere
 *       else it is content;</li>
 *   <li>a line ends at CRLF, LF or CR; a CRLF counts as one line end even when the CR and the LF arrive in
 *       different calls;</li>
 *   <li>each line is decoded as UTF-8, malformed sequences becoming U+FFFD;</li>
 *   <li>an empty line dispatches the pending event; a line starting with {@code :} is a comment; otherwise
 *       the field name is everything before the first {@code :} and the value everything after it, less one
 *       leading space (a line without {@code :} is a field with an empty value);</li>
 *   <li>{@code event} sets the event type, {@code data} appends the value and a LF to the data buffer,
 *       {@code id} sets the last event ID unless the value contains U+0000 (it may be set to the empty
 *       string, and it persists from one event to the next), {@code retry} reports a reconnection time when
 *       the value is all ASCII digits; any other field is ignored;</li>
 *   <li>on dispatch an empty data buffer dispatches nothing; otherwise the one trailing LF is removed and
 *       the type defaults to {@code message};</li>
 *   <li>at the end of the stream a pending, undispatched event (and an unterminated last line) is
 *       discarded.</li>
 * </ul>
 *
 * <p>Memory is bounded: only the current line is buffered (in a small byte array that grows on demand, up
 * to {@code maxLineBytes}), plus the data of the current event (up to {@code maxDataChars}). The parser is
 * not thread-safe: feed it from one thread at a time (as a reactive subscriber's serialized callbacks do).
 * The {@link Listener} is called on the feeding thread; an exception it throws propagates out of
 * {@link #feed(ByteBuffer)}. After any exception the parser must be discarded.
 */
public final class EventStreamParser {

    /** Receives dispatched events, on the thread that calls {@link #feed(ByteBuffer)}. */
    public interface Listener {

        /**
         * One dispatched event.
         *
         * @param lastEventId the last event ID at dispatch time ({@code ""} until an {@code id} field set it;
         *                    it persists across events), never {@code null}
         * @param type        the event type, {@code "message"} when no non-empty {@code event} field was
         *                    given, never {@code null}
         * @param data        the event data: the {@code data} field values joined with LF, never
         *                    {@code null}; it may be empty ({@code data:} alone dispatches {@code ""}), but
         *                    an event without any {@code data} field is not dispatched at all
         */
        void onEvent(String lastEventId, String type, String data);

        /**
         * A {@code retry} field whose value is all ASCII digits: the reconnection time the server asks for.
         *
         * @param millis the reconnection time in milliseconds, {@link Long#MAX_VALUE} if the value overflows
         */
        default void onRetry(long millis) {
        }
    }

    private static final int INITIAL_LINE_BYTES = 512;
    private static final int INITIAL_DATA_CHARS = 256;
    /** A buffer that grew past this is dropped after use, so that one large event does not pin memory. */
    private static final int RETAINED_MAX = 16 * 1024;

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte COLON = ':';
    private static final byte SPACE = ' ';

    private final Listener listener;
    private final int maxLineBytes;
    private final int maxDataChars;

    private byte[] line = new byte[INITIAL_LINE_BYTES];
    private int lineLength;
    /** The previous byte was a CR that ended a line: an LF right after it belongs to the same line end. */
    private boolean afterCr;
    /** No line has ended yet: the current line is the first, where a BOM is skipped. */
    private boolean firstLine = true;
    private boolean ended;

    private StringBuilder data = new StringBuilder(INITIAL_DATA_CHARS);
    private String eventType = "";
    private String lastEventId = "";

    /**
     * @param listener     receives the dispatched events and retry values
     * @param maxLineBytes the longest line accepted, in bytes of UTF-8 excluding the line end (at least 1)
     * @param maxDataChars the longest event data accepted, in UTF-16 code units (Java {@code char}s) of the
     *                     dispatched data, i.e. the {@code data} values joined with LF (at least 1)
     * @throws IllegalArgumentException if a limit is below 1
     * @throws NullPointerException     if {@code listener} is {@code null}
     */
    public EventStreamParser(Listener listener, int maxLineBytes, int maxDataChars) {
        if (listener == null) {
            throw new NullPointerException("listener");
        }
        if (maxLineBytes < 1 || maxDataChars < 1) {
            throw new IllegalArgumentException("limits must be at least 1");
        }
        this.listener = listener;
        this.maxLineBytes = maxLineBytes;
        this.maxDataChars = maxDataChars;
    }

    /**
     * Parses the next bytes of the stream: consumes all the remaining bytes of {@code bytes} (its position
     * ends at its limit), dispatching every event whose terminating empty line is among them. A line that
     * is not yet complete is kept for the next call. Any kind of buffer (heap, direct, read-only) is
     * accepted.
     *
     * @param bytes the next bytes of the stream, from its position to its limit
     * @throws UpstreamException     with {@link FailureCode#UPSTREAM_PROTOCOL} when a line grows longer than
     *                               {@code maxLineBytes} bytes, or an event's data longer than
     *                               {@code maxDataChars} UTF-16 code units
     * @throws IllegalStateException if {@link #end()} was called before
     */
    public void feed(ByteBuffer bytes) {
        if (ended) {
            throw new IllegalStateException("the event stream has ended");
        }
        int i = bytes.position();
        int limit = bytes.limit();
        if (afterCr && i < limit) {
            afterCr = false;
            if (bytes.get(i) == LF) {
                i++;
            }
        }
        while (i < limit) {
            int start = i;
            byte b = 0;
            while (i < limit && (b = bytes.get(i)) != LF && b != CR) {
                i++;
            }
            append(bytes, start, i - start);
            if (i == limit) {
                break;
            }
            i++; // the CR or LF
            if (b == CR) {
                if (i == limit) {
                    afterCr = true;
                } else if (bytes.get(i) == LF) {
                    i++;
                }
            }
            endOfLine();
        }
        bytes.position(limit);
    }

    /**
     * Ends the stream: an unterminated last line and a pending event that no empty line dispatched are
     * discarded, as the specification requires. Further calls of {@link #feed(ByteBuffer)} fail; further
     * calls of this method do nothing.
     */
    public void end() {
        ended = true;
        lineLength = 0;
        line = null;
        data = null;
        eventType = "";
    }

    // --- inside

    private void append(ByteBuffer bytes, int from, int count) {
        if (count == 0) {
            return;
        }
        int needed = lineLength + count;
        if (needed > maxLineBytes) {
            throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL,
                    "upstream sent an event-stream line longer than " + maxLineBytes + " bytes");
        }
        if (needed > line.length) {
            int grown = (int) Math.min(maxLineBytes, Math.max(needed, 2L * line.length));
            line = Arrays.copyOf(line, grown);
        }
        bytes.get(from, line, lineLength, count);
        lineLength = needed;
    }

    private void endOfLine() {
        int from = 0;
        if (firstLine) {
            firstLine = false;
            if (lineLength >= 3 && line[0] == (byte) 0xEF && line[1] == (byte) 0xBB && line[2] == (byte) 0xBF) {
                from = 3;
            }
        }
        int to = lineLength;
        lineLength = 0;
        try {
            processLine(from, to);
        } finally {
            if (line.length > RETAINED_MAX) {
                line = new byte[INITIAL_LINE_BYTES];
            }
        }
    }

    private void processLine(int from, int to) {
        if (from == to) {
            dispatch();
            return;
        }
        if (line[from] == COLON) {
            return; // a comment
        }
        int colon = from;
        while (colon < to && line[colon] != COLON) {
            colon++;
        }
        int valueFrom = colon;
        if (colon < to) {
            valueFrom = colon + 1;
            if (valueFrom < to && line[valueFrom] == SPACE) {
                valueFrom++;
            }
        }
        int nameLength = colon - from;
        if (is(from, nameLength, "data")) {
            appendData(valueFrom, to);
        } else if (is(from, nameLength, "event")) {
            eventType = decode(valueFrom, to);
        } else if (is(from, nameLength, "id")) {
            for (int j = valueFrom; j < to; j++) {
                if (line[j] == 0) {
                    return; // U+0000 is only ever encoded as the byte 00 in UTF-8
                }
            }
            lastEventId = decode(valueFrom, to);
        } else if (is(from, nameLength, "retry")) {
            retry(valueFrom, to);
        }
        // any other field is ignored
    }

    /** Whether the field name bytes equal the ASCII {@code name} (equivalent to comparing decoded text). */
    private boolean is(int from, int length, String name) {
        if (length != name.length()) {
            return false;
        }
        for (int j = 0; j < length; j++) {
            if (line[from + j] != name.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    private void appendData(int from, int to) {
        int count = to - from;
        boolean ascii = true;
        for (int j = from; j < to; j++) {
            if (line[j] < 0) {
                ascii = false;
                break;
            }
        }
        // the dispatched data is the buffer without its final LF: buffer + value must stay within the limit
        if (ascii) {
            checkData(count);
            data.ensureCapacity(data.length() + count + 1);
            for (int j = from; j < to; j++) {
                data.append((char) line[j]);
            }
        } else {
            String value = decode(from, to);
            checkData(value.length());
            data.append(value);
        }
        data.append('\n');
    }

    private void checkData(int valueChars) {
        if ((long) data.length() + valueChars > maxDataChars) {
            throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL,
                    "upstream sent an event with more than " + maxDataChars + " characters of data");
        }
    }

    private void retry(int from, int to) {
        if (from == to) {
            return;
        }
        long millis = 0;
        for (int j = from; j < to; j++) {
            int digit = line[j] - '0';
            if (digit < 0 || digit > 9) {
                return;
            }
            millis = millis > (Long.MAX_VALUE - digit) / 10 ? Long.MAX_VALUE : millis * 10 + digit;
        }
        listener.onRetry(millis);
    }

    private void dispatch() {
        StringBuilder buffer = data;
        if (buffer.length() == 0) {
            eventType = "";
            return;
        }
        String text = buffer.substring(0, buffer.length() - 1); // the one trailing LF, always there
        String type = eventType.isEmpty() ? "message" : eventType;
        eventType = "";
        if (buffer.capacity() > RETAINED_MAX) {
            data = new StringBuilder(INITIAL_DATA_CHARS);
        } else {
            buffer.setLength(0);
        }
        listener.onEvent(lastEventId, type, text);
    }

    private String decode(int from, int to) {
        return from == to ? "" : new String(line, from, to - from, StandardCharsets.UTF_8);
    }
}
