package io.sluice.conversations.boundary;

import io.sluice.conversations.entity.Message;
import jakarta.json.bind.annotation.JsonbNillable;
import java.time.Instant;

/**
 * JSON view of a message: the fields of API.md section 4 ({@code id, role, content, reasoning, status,
 * finishReason, agent, createdAt}) plus, as an extension, how it ended ({@code endReason}), the model, token
 * usage, time to first token and duration in ms, the stream that produced it, and its place among versions:
 * {@code parentId} (for a chat answer, the user message it answers) and {@code active} (the version later turns
 * use).
 */
@JsonbNillable
public record MessageView(String id, String role, String content, String reasoning, String status,
                          String finishReason, String agent, Instant createdAt, String endReason, String model,
                          Integer promptTokens, Integer completionTokens, Integer totalTokens,
                          Long timeToFirstTokenMs, Long durationMs, String streamId, String parentId,
                          boolean active) {

    static MessageView of(Message m) {
        return new MessageView(m.getId(), m.getRole(), m.getContent(), m.getReasoning(), m.getStatus(),
                m.getFinishReason(), m.getAgent(), m.getCreatedAt(), m.getEndReason(), m.getModel(),
                m.getPromptTokens(), m.getCompletionTokens(), m.getTotalTokens(), m.getTimeToFirstTokenMs(),
                m.getDurationMs(), m.getStreamId(), m.getParentId(), m.isActive());
    }
}
