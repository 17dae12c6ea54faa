package io.sluice.streams.control;

/**
 * One SSE frame of a stream as it is sent: {@code id} (1, 2, ... within the stream; 0 for none, as for {@code ping}),
 * event name ({@code null} for an unnamed event, as OpenAI's {@code chat.completion.chunk} events are) and one-line
 * data (API.md sections 2 and 8); or, with {@code comment}, an SSE comment line ({@code : text}), which every
 * EventSource and SDK parser ignores (WHATWG HTML, "event stream interpretation": lines starting with a colon).
 */
public record StreamEvent(long id, String name, String data, boolean comment) {

    /** A named event with data (API.md section 2). */
    public StreamEvent(long id, String name, String data) {
        this(id, name, data, false);
    }

    /** An unnamed event without id: {@code data: …} only. */
    public static StreamEvent data(String data) {
        return new StreamEvent(0, null, data, false);
    }

    /** A comment line, {@code : text}; a heartbeat that no parser turns into an event. */
    public static StreamEvent comment(String text) {
        return new StreamEvent(0, null, text, true);
    }
}
