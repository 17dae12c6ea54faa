package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.JsonText;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.time.Instant;
import java.util.List;

/**
 * The SSE edge: renders a stream's typed {@link StreamEntry entries} as the events of API.md section 2, with their
 * one-line JSON data.
 *
 * <ul>
 *   <li>{@code Opened}: {@code stream}, its data as given;</li>
 *   <li>{@code Delta}: {@code message}, {@code {"delta":"…","isFinal":false}} or {@code {"reasoning":"…",
 *       "isFinal":false}};</li>
 *   <li>{@code Ended}: {@code done} {@code {"messageId","status":"completed","finishReason","usage"}}, {@code error}
 *       {@code {"error","code","details","messageId"}} or {@code stopped} {@code {"messageId","status","reason"}}
 *       (status {@code stopped}, or {@code partial} when the generation was cut off: README, "Extensions").</li>
 * </ul>
 */
public final class SseEvents {

    /**
     * The {@code /api} edge: each entry's event from the stream's small cache of rendered events
     * ({@link Stream#sse}), and {@code ping} events ({@code {"timestamp": epochSeconds}}, no id) as heartbeats.
     */
    public static final SseEdge EDGE = new SseEdge() {
        @Override
        public List<StreamEvent> render(Stream stream, EventLog.Logged<StreamEntry> logged) {
            return List.of(stream.sse(logged));
        }

        @Override
        public StreamEvent heartbeat() {
            return new StreamEvent(0, "ping", "{\"timestamp\":" + Instant.now().getEpochSecond() + "}");
        }
    };

    private SseEvents() {
    }

    /** The SSE event for the entry with id {@code id}. */
    public static StreamEvent render(long id, StreamEntry entry) {
        if (entry instanceof StreamEntry.Delta d) {
            return new StreamEvent(id, "message", deltaData(d));
        }
        if (entry instanceof StreamEntry.Opened o) {
            return new StreamEvent(id, "stream", o.data().toString());
        }
        StreamEntry.Ended e = (StreamEntry.Ended) entry;
        return new StreamEvent(id, terminalName(e.end().status()), terminalData(e));
    }

    /** The data of a {@code message} event. */
    static String deltaData(StreamEntry.Delta d) {
        StringBuilder json = new StringBuilder(d.text().length() + 40);
        json.append(d.reasoning() ? "{\"reasoning\":" : "{\"delta\":");
        JsonText.quote(json, d.text());
        return json.append(d.isFinal() ? ",\"isFinal\":true}" : ",\"isFinal\":false}").toString();
    }

    /** The name of the terminal event: {@code done}, {@code error} or {@code stopped}. */
    public static String terminalName(StreamStatus status) {
        return switch (status) {
            case COMPLETED -> "done";
            case ERROR -> "error";
            default -> "stopped";
        };
    }

    private static String terminalData(StreamEntry.Ended ended) {
        Stream.End end = ended.end();
        JsonValue message = ended.messageId() == null ? JsonValue.NULL : JSON.createValue(ended.messageId());
        JsonObjectBuilder data = switch (end.status()) {
            case COMPLETED -> JSON.createObjectBuilder()
                    .add("messageId", message)
                    .add("status", "completed")
                    .add("finishReason", end.finishReason() == null ? JsonValue.NULL
                            : JSON.createValue(end.finishReason()))
                    .add("usage", end.usage() == null ? JsonValue.NULL : end.usage());
            case ERROR -> {
                UpstreamException f = end.failure();
                JsonObjectBuilder details = JSON.createObjectBuilder();
                if (f.upstreamStatus() > 0) {
                    details.add("upstreamStatus", f.upstreamStatus());
                }
                if (f.retryAfterSeconds() != null) {
                    details.add("retryAfterSeconds", f.retryAfterSeconds());
                }
                yield JSON.createObjectBuilder()
                        .add("error", f.getMessage())
                        .add("code", f.code().name())
                        .add("details", details)
                        .add("messageId", message);
            }
            default -> JSON.createObjectBuilder()
                    .add("messageId", message)
                    .add("status", end.messageStatus().value())
                    .add("reason", end.reason());
        };
        return data.build().toString();
    }
}
