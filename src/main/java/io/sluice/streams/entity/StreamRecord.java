package io.sluice.streams.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * The audit record of a stream: written when it starts and when it ends, never per chunk. After an ended
 * stream leaves memory (retention), its state is read from here (and, for chat, from its message).
 * {@code content} holds the output of typed streams (titles, rewritten prompts, system prompts); a chat
 * stream's text is in its message.
 */
@Entity
@Table(name = "streams")
public class StreamRecord {

    @Id
    private String id;
    private String type;
    @Column(name = "related_id")
    private String relatedId;
    private String owner;
    @Column(name = "conversation_id")
    private String conversationId;
    private String model;
    private String status;
    @Column(name = "end_reason")
    private String endReason;
    @Column(name = "message_id")
    private String messageId;
    private String content;
    @Column(name = "created_at")
    private Instant createdAt;
    @Column(name = "ended_at")
    private Instant endedAt;
    @Column(name = "answer_seq")
    private Integer answerSeq;
    @Column(name = "parent_id")
    private String parentId;
    @Column(name = "node_id")
    private String nodeId;

    protected StreamRecord() {
    }

    public StreamRecord(String id, String type, String relatedId, String owner, String conversationId, String model,
                        String status, Instant createdAt) {
        this.id = id;
        this.type = type;
        this.relatedId = relatedId;
        this.owner = owner;
        this.conversationId = conversationId;
        this.model = model;
        this.status = status;
        this.createdAt = createdAt;
    }

    /**
     * Where a chat stream's answer goes, known from its start: the reserved message id, its position and the user
     * message it answers (the start-up after a crash writes an interrupted answer there).
     */
    public void reserveAnswer(String answerId, int seq, String parentMessageId) {
        this.messageId = answerId;
        this.answerSeq = seq;
        this.parentId = parentMessageId;
    }

    /** Records how the stream ended. */
    public void ended(String status, String endReason, String messageId, String content, Instant endedAt) {
        this.status = status;
        this.endReason = endReason;
        this.messageId = messageId;
        this.content = content;
        this.endedAt = endedAt;
    }

    public String getId() {
        return id;
    }

    public String getType() {
        return type;
    }

    public String getRelatedId() {
        return relatedId;
    }

    public String getOwner() {
        return owner;
    }

    public String getConversationId() {
        return conversationId;
    }

    public String getModel() {
        return model;
    }

    public String getStatus() {
        return status;
    }

    public String getEndReason() {
        return endReason;
    }

    public String getMessageId() {
        return messageId;
    }

    public String getContent() {
        return content;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }

    public Instant getEndedAt() {
        return endedAt;
    }

    /** The reserved position of a chat stream's answer, or {@code null}. */
    public Integer getAnswerSeq() {
        return answerSeq;
    }

    /** The user message a chat stream's answer answers, or {@code null}. */
    public String getParentId() {
        return parentId;
    }

    /** The node that generates the stream (its id per start; issue 10), or {@code null} for older records. */
    public String getNodeId() {
        return nodeId;
    }

    public void setNodeId(String nodeId) {
        this.nodeId = nodeId;
    }
}
