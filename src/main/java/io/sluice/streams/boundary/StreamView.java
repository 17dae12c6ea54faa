package io.sluice.streams.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamSummary;
import io.sluice.streams.entity.StreamRecord;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;

/**
 * JSON state of a stream (API.md section 3): {@code id, type, relatedId, conversationId, status, content,
 * reasoning, lastEventId, endReason, messageId, createdAt, endedAt}; {@code content} and {@code reasoning}
 * are left out of lists.
 */
final class StreamView {

    private StreamView() {
    }

    static JsonObject of(Stream s, boolean withText) {
        JsonObjectBuilder b = builder(StreamSummary.of(s));
        if (withText) {
            b.add("content", s.content()).add("reasoning", s.reasoning());
        }
        return b.build();
    }

    /** The state of a stream in a list: without {@code content} and {@code reasoning}. */
    static JsonObject of(StreamSummary s) {
        return builder(s).build();
    }

    private static JsonObjectBuilder builder(StreamSummary s) {
        return JSON.createObjectBuilder()
                .add("id", s.id())
                .add("type", s.type().wire())
                .add("relatedId", text(s.relatedId()))
                .add("conversationId", text(s.conversationId()))
                .add("status", s.status().wire())
                .add("lastEventId", s.lastEventId())
                .add("endReason", text(s.endReason()))
                .add("messageId", text(s.messageId()))
                .add("model", text(s.model()))
                .add("createdAt", s.createdAt().toString())
                .add("endedAt", text(s.endedAt() == null ? null : s.endedAt().toString()))
                .add("followers", s.followers());
    }

    /** The state of a stream no longer in memory, from its record and (for chat) its message. */
    static JsonObject of(StreamRecord r, String content, String reasoning) {
        return JSON.createObjectBuilder()
                .add("id", r.getId())
                .add("type", r.getType())
                .add("relatedId", text(r.getRelatedId()))
                .add("conversationId", text(r.getConversationId()))
                .add("status", r.getStatus())
                .add("lastEventId", JsonValue.NULL)
                .add("endReason", text(r.getEndReason()))
                .add("messageId", text(r.getMessageId()))
                .add("model", text(r.getModel()))
                .add("createdAt", r.getCreatedAt().toString())
                .add("endedAt", text(r.getEndedAt() == null ? null : r.getEndedAt().toString()))
                .add("content", content == null ? "" : content)
                .add("reasoning", reasoning == null ? "" : reasoning)
                .build();
    }

    private static JsonValue text(String value) {
        return value == null ? JsonValue.NULL : JSON.createValue(value);
    }
}
