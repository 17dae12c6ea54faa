package io.sluice.conversations.boundary;

import io.sluice.conversations.entity.Message;
import jakarta.json.bind.annotation.JsonbNillable;
import java.time.Instant;

/**
 * JSON view of a message: the fields of API.md section 4 ({@code id, role, content, reasoning, status,
 * finishReason, agent, createdAt}) plus, as an extension, how it ended ({@code endReason}), the model, token
 * usage, time to first token and duration in ms, the stream that produced it, and its place among versions:
 * {@code parentId} (for a chat answer, the user message it answers) and {@code active} (the version later turns
 * use). {@code error} is {@code {"code","error"}} when its stream ended in {@code error} (API.md section 13: the code
 * and the message of that {@code error} event), else {@code null}. {@code seq} is its position in the conversation
 * (1, 2, ...; the {@code before} of paging, README "Extensions").
 */
@JsonbNillable
public record MessageView(String id, String role, String content, String reasoning, String status,
                          String finishReason, String agent, Instant createdAt, String endReason, String model,
                          Integer promptTokens, Integer completionTokens, Integer totalTokens,
                          Long timeToFirstTokenMs, Long durationMs, String streamId, String parentId,
                          boolean active, Failure error, int seq) {

    /**
     * The error a failed answer ended with (API.md section 13).
     *
     * @param code  the {@code error} event's code ({@code UPSTREAM_ERROR}, ...)
     * @param error its message
     */
    @JsonbNillable // Yasson writes a null property of a class type by that class's customization, not the owner's
    public record Failure(String code, String error) {
    }

    static MessageView of(Message m) {
        Failure error = m.getErrorMessage() == null ? null : new Failure(m.getEndReason(), m.getErrorMessage());
        return new MessageView(m.getId(), m.getRole(), m.getContent(), m.getReasoning(), m.getStatus(),
                m.getFinishReason(), m.getAgent(), m.getCreatedAt(), m.getEndReason(), m.getModel(),
                m.getPromptTokens(), m.getCompletionTokens(), m.getTotalTokens(), m.getTimeToFirstTokenMs(),
                m.getDurationMs(), m.getStreamId(), m.getParentId(), m.isActive(), error, m.getSeq());
    }
}
