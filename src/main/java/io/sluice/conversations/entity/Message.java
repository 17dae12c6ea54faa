package io.sluice.conversations.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Lob;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One message of a conversation. A user message is written when its turn starts; an assistant message is
 * written once, when its stream ends, with the text produced so far and how it ended (API.md section 2:
 * status {@code completed|stopped|error|partial}). Never updated per chunk.
 */
@Entity
@Table(name = "messages")
@NamedQuery(name = Message.BY_CONVERSATION,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation ORDER BY m.seq")
@NamedQuery(name = Message.LATEST_BY_CONVERSATION,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation ORDER BY m.seq DESC")
public class Message {

    public static final String BY_CONVERSATION = "Message.byConversation";
    public static final String LATEST_BY_CONVERSATION = "Message.latestByConversation";

    @Id
    private String id;
    @Column(name = "conversation_id")
    private String conversationId;
    private int seq;
    private String role;
    private String agent;
    @Lob
    private String content;
    @Lob
    private String reasoning;
    private String status;
    @Column(name = "finish_reason")
    private String finishReason;
    @Column(name = "end_reason")
    private String endReason;
    private String model;
    @Column(name = "stream_id")
    private String streamId;
    @Column(name = "prompt_tokens")
    private Integer promptTokens;
    @Column(name = "completion_tokens")
    private Integer completionTokens;
    @Column(name = "total_tokens")
    private Integer totalTokens;
    @Column(name = "time_to_first_token_ms")
    private Long timeToFirstTokenMs;
    @Column(name = "duration_ms")
    private Long durationMs;
    @Lob
    @Column(name = "upstream_request")
    private String upstreamRequest;
    @Column(name = "created_at")
    private Instant createdAt;
    @Column(name = "updated_at")
    private Instant updatedAt;

    protected Message() {
    }

    /**
     * @param id             the message id (a UUID string)
     * @param conversationId the conversation it belongs to
     * @param seq            its position in the conversation
     * @param role           {@code user} or {@code assistant}
     * @param content        its text, never {@code null}
     * @param status         one of {@link MessageStatus}
     * @param createdAt      when its turn started
     */
    public Message(String id, String conversationId, int seq, String role, String content, MessageStatus status,
                   Instant createdAt) {
        this.id = id;
        this.conversationId = conversationId;
        this.seq = seq;
        this.role = role;
        this.content = content;
        this.status = status.value();
        this.createdAt = createdAt;
        this.updatedAt = createdAt;
    }

    public String getId() {
        return id;
    }

    public String getConversationId() {
        return conversationId;
    }

    public int getSeq() {
        return seq;
    }

    public String getRole() {
        return role;
    }

    public String getAgent() {
        return agent;
    }

    public void setAgent(String agent) {
        this.agent = agent;
    }

    public String getContent() {
        return content;
    }

    public String getReasoning() {
        return reasoning;
    }

    public void setReasoning(String reasoning) {
        this.reasoning = reasoning;
    }

    public String getStatus() {
        return status;
    }

    public String getFinishReason() {
        return finishReason;
    }

    public void setFinishReason(String finishReason) {
        this.finishReason = finishReason;
    }

    public String getEndReason() {
        return endReason;
    }

    public void setEndReason(String endReason) {
        this.endReason = endReason;
    }

    public String getModel() {
        return model;
    }

    public void setModel(String model) {
        this.model = model;
    }

    public String getStreamId() {
        return streamId;
    }

    public void setStreamId(String streamId) {
        this.streamId = streamId;
    }

    public Integer getPromptTokens() {
        return promptTokens;
    }

    public Integer getCompletionTokens() {
        return completionTokens;
    }

    public Integer getTotalTokens() {
        return totalTokens;
    }

    /** Sets the token counts; any may be {@code null} when the upstream did not report it. */
    public void setUsage(Integer promptTokens, Integer completionTokens, Integer totalTokens) {
        this.promptTokens = promptTokens;
        this.completionTokens = completionTokens;
        this.totalTokens = totalTokens;
    }

    public Long getTimeToFirstTokenMs() {
        return timeToFirstTokenMs;
    }

    public void setTimeToFirstTokenMs(Long timeToFirstTokenMs) {
        this.timeToFirstTokenMs = timeToFirstTokenMs;
    }

    public Long getDurationMs() {
        return durationMs;
    }

    public void setDurationMs(Long durationMs) {
        this.durationMs = durationMs;
    }

    public String getUpstreamRequest() {
        return upstreamRequest;
    }

    public void setUpstreamRequest(String upstreamRequest) {
        this.upstreamRequest = upstreamRequest;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }

    public Instant getUpdatedAt() {
        return updatedAt;
    }

    public void setUpdatedAt(Instant updatedAt) {
        this.updatedAt = updatedAt;
    }
}
