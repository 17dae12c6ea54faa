package io.sluice.conversations.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * One message of a conversation. A user message is written when its turn starts; an assistant message is
 * written once, when its stream ends, with the text produced so far and how it ended (API.md section 2:
 * status {@code completed|stopped|error|partial}). Never updated per chunk.
 *
 * <p>A chat answer names the user message it answers ({@code parentId}). Regenerate adds another answer with the
 * same parent: a <em>version</em>. One version per parent is {@code active}; the history sent upstream uses the
 * active ones (README, "Extensions to API.md"). Continue rewrites an answer once more, when its continuation
 * ends, with the joined text ({@link #continueWith}).
 */
@Entity
@Table(name = "messages")
@NamedQuery(name = Message.BY_CONVERSATION,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation ORDER BY m.seq")
@NamedQuery(name = Message.LATEST_BY_CONVERSATION,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation ORDER BY m.seq DESC")
@NamedQuery(name = Message.PAGE_BEFORE,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation AND m.seq < :before ORDER BY m.seq DESC")
@NamedQuery(name = Message.LATEST_ACTIVE_BY_CONVERSATION,
        query = "SELECT m FROM Message m WHERE m.conversationId = :conversation AND m.active = TRUE"
                + " ORDER BY m.seq DESC")
@NamedQuery(name = Message.VERSIONS,
        query = "SELECT m FROM Message m WHERE m.parentId = :parent AND m.agent IS NULL AND m.role = 'assistant'")
public class Message {

    public static final String BY_CONVERSATION = "Message.byConversation";
    public static final String LATEST_BY_CONVERSATION = "Message.latestByConversation";
    /** The messages before a position, newest first (a page of {@code GET .../messages?before=}). */
    public static final String PAGE_BEFORE = "Message.pageBefore";
    /** The active messages of a conversation, newest first ({@code :conversation}). */
    public static final String LATEST_ACTIVE_BY_CONVERSATION = "Message.latestActiveByConversation";
    /** The chat answers (versions) of one user message ({@code :parent}). */
    public static final String VERSIONS = "Message.versions";
    /** Longest error message kept, in UTF-16 code units ({@code messages.error_message}). */
    public static final int MAX_ERROR_MESSAGE = 1000;

    @Id
    private String id;
    @Column(name = "conversation_id")
    private String conversationId;
    private int seq;
    private String role;
    private String agent;
    private String content;
    private String reasoning;
    private String status;
    @Column(name = "finish_reason")
    private String finishReason;
    @Column(name = "end_reason")
    private String endReason;
    private String model;
    @Column(name = "stream_id")
    private String streamId;
    @Column(name = "parent_id")
    private String parentId;
    private boolean active = true;
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
    @Column(name = "upstream_request")
    private String upstreamRequest;
    @Column(name = "raw_response")
    private byte[] rawResponse;
    @Column(name = "error_message")
    private String errorMessage;
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

    /** For a chat answer, the user message it answers; {@code null} for user and agent messages. */
    public String getParentId() {
        return parentId;
    }

    public void setParentId(String parentId) {
        this.parentId = parentId;
    }

    /** Whether this is the version of its parent's answers that later turns and the history use. */
    public boolean isActive() {
        return active;
    }

    public void setActive(boolean active) {
        this.active = active;
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

    /**
     * The raw record of the upstream response (API.md section 13), gzipped JSON as {@code RawCapture} encodes it, or
     * {@code null} where none was kept ({@code SLUICE_RAW_MAX_BYTES=0}, user messages, answers saved before it existed).
     */
    public byte[] getRawResponse() {
        return rawResponse;
    }

    public void setRawResponse(byte[] rawResponse) {
        this.rawResponse = rawResponse;
    }

    /**
     * The message of the {@code error} event its stream ended with (its code is {@link #getEndReason()}), or
     * {@code null} when the stream did not end in {@code error}.
     */
    public String getErrorMessage() {
        return errorMessage;
    }

    /** Sets the error's message, cut to {@value #MAX_ERROR_MESSAGE} UTF-16 code units (its column's size). */
    public void setErrorMessage(String errorMessage) {
        String m = errorMessage;
        if (m != null && m.length() > MAX_ERROR_MESSAGE) {
            int cut = Character.isHighSurrogate(m.charAt(MAX_ERROR_MESSAGE - 1)) ? MAX_ERROR_MESSAGE - 1
                    : MAX_ERROR_MESSAGE;
            m = m.substring(0, cut);
        }
        this.errorMessage = m;
    }

    /**
     * Joins a continuation to this answer (Continue): its text and reasoning are appended, and how the answer
     * ended (with its error), its model, stream and raw record (the upstream request, which carries the answer so far,
     * and the response) become the continuation's. Token counts and the duration add up, when both are known; the time
     * to first token stays the first generation's.
     *
     * @param continuation the continuation's own message, as {@code Answers.of} builds it (not persisted)
     */
    public void continueWith(Message continuation) {
        content = content + continuation.content;
        if (continuation.reasoning != null) {
            reasoning = reasoning == null ? continuation.reasoning : reasoning + continuation.reasoning;
        }
        status = continuation.status;
        finishReason = continuation.finishReason;
        endReason = continuation.endReason;
        model = continuation.model;
        streamId = continuation.streamId;
        upstreamRequest = continuation.upstreamRequest;
        rawResponse = continuation.rawResponse;
        errorMessage = continuation.errorMessage;
        promptTokens = sum(promptTokens, continuation.promptTokens);
        completionTokens = sum(completionTokens, continuation.completionTokens);
        totalTokens = sum(totalTokens, continuation.totalTokens);
        durationMs = durationMs == null || continuation.durationMs == null ? continuation.durationMs
                : Long.valueOf(durationMs + continuation.durationMs);
        updatedAt = continuation.updatedAt;
    }

    private static Integer sum(Integer a, Integer b) {
        return a == null || b == null ? b : Integer.valueOf(a + b);
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
