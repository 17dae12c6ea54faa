package io.sluice.openai.control;

import io.sluice.platform.control.JsonText;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.SseEdge;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamEntry;
import io.sluice.streams.control.StreamEvent;
import io.sluice.streams.control.StreamStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code /v1} edge of a stream (API.md section 8): its entries as OpenAI {@code chat.completion.chunk} events,
 * unnamed and without ids, as the official SDKs parse them, for one connection.
 *
 * <ul>
 *   <li>{@code Opened}: nothing yet (the status line stays open for an early error, see {@link EarlyAnswer}).</li>
 *   <li>The first output: a chunk with {@code delta.role: "assistant"} and empty content, then that output.</li>
 *   <li>{@code Delta}: a chunk with {@code delta.content}, or {@code delta.reasoning_content} for reasoning (the
 *       field DeepSeek and vLLM use); an empty final marker gives nothing.</li>
 *   <li>{@code Ended}, completed: a chunk with an empty delta and {@code finish_reason} (the upstream's, {@code stop}
 *       when it gave none), then, when the client asked with {@code stream_options.include_usage}, a chunk with no
 *       choice and {@code usage} (the upstream's, or {@code null} when it gave none), then {@code data: [DONE]}.</li>
 *   <li>{@code Ended} otherwise: when nothing was written yet, the response becomes an HTTP error
 *       ({@link OpenAiError#of(Stream.End)}); else one event {@code {"error":{…}}}, which the SDKs raise, and the
 *       stream ends without {@code [DONE]}.</li>
 * </ul>
 * Heartbeats are SSE comment lines ({@code : keep-alive}), which the SDKs' parsers skip (a {@code ping} event would be
 * parsed as a chunk).
 *
 * <p>Each entry is rendered once, with one pass over its text ({@link JsonText}). Not thread-safe: the connection's
 * pump calls it.
 */
public final class ChunkEdge implements SseEdge {

    private static final StreamEvent DONE = StreamEvent.data("[DONE]");
    private static final StreamEvent KEEP_ALIVE = StreamEvent.comment("keep-alive");

    private final String head;
    private final boolean includeUsage;
    private final EarlyAnswer early;
    private boolean roleSent;

    /**
     * @param streamId     the stream's id; the chunks' {@code id} is {@code chatcmpl-} and it
     * @param created      the {@code created} time, epoch seconds
     * @param model        the {@code model} the chunks name
     * @param includeUsage whether the client asked for the usage chunk
     * @param early        turns the response into an HTTP error while nothing was written
     */
    public ChunkEdge(String streamId, long created, String model, boolean includeUsage, EarlyAnswer early) {
        StringBuilder h = new StringBuilder(96).append("{\"id\":");
        JsonText.quote(h, "chatcmpl-" + streamId).append(",\"object\":\"chat.completion.chunk\",\"created\":")
                .append(created).append(",\"model\":");
        JsonText.quote(h, model == null ? "" : model);
        this.head = h.toString();
        this.includeUsage = includeUsage;
        this.early = early;
    }

    @Override
    public List<StreamEvent> render(Stream stream, EventLog.Logged<StreamEntry> logged) {
        StreamEntry entry = logged.entry();
        if (entry instanceof StreamEntry.Delta d) {
            if (d.text().isEmpty()) {
                return List.of();
            }
            StreamEvent chunk = chunk(d.reasoning() ? "reasoning_content" : "content", d.text(), null);
            return withRole(chunk);
        }
        if (entry instanceof StreamEntry.Ended e) {
            return ended(e.end());
        }
        return List.of();
    }

    @Override
    public StreamEvent heartbeat() {
        return KEEP_ALIVE;
    }

    private List<StreamEvent> withRole(StreamEvent event) {
        if (roleSent) {
            return List.of(event);
        }
        roleSent = true;
        StringBuilder json = new StringBuilder(head.length() + 120).append(head)
                .append(",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                        + "\"logprobs\":null,\"finish_reason\":null}]}");
        return List.of(StreamEvent.data(json.toString()), event);
    }

    private List<StreamEvent> ended(Stream.End end) {
        if (end.status() != StreamStatus.COMPLETED) {
            OpenAiError error = OpenAiError.of(end);
            if (!roleSent && early.answer(error)) {
                return List.of();
            }
            return List.of(StreamEvent.data(error.json().toString()));
        }
        List<StreamEvent> events = new ArrayList<>(4);
        String finish = end.finishReason() == null ? "stop" : end.finishReason();
        events.addAll(withRole(chunk(null, null, finish)));
        if (includeUsage) {
            events.add(StreamEvent.data(head + ",\"choices\":[],\"usage\":"
                    + (end.usage() == null ? "null" : end.usage().toString()) + "}"));
        }
        events.add(DONE);
        return events;
    }

    /** A chunk with one field in its delta ({@code field} null: an empty delta) and a finish reason or null. */
    private StreamEvent chunk(String field, String text, String finishReason) {
        StringBuilder json = new StringBuilder(head.length() + 96 + (text == null ? 0 : text.length()))
                .append(head).append(",\"choices\":[{\"index\":0,\"delta\":{");
        if (field != null) {
            json.append('"').append(field).append("\":");
            JsonText.quote(json, text);
        }
        json.append("},\"logprobs\":null,\"finish_reason\":");
        if (finishReason == null) {
            json.append("null");
        } else {
            JsonText.quote(json, finishReason);
        }
        return StreamEvent.data(json.append("}]}").toString());
    }
}
