package io.sluice.agents.entity;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * The record of a multi-agent run (API.md section 5): written when it starts ({@code running}) and when it ends
 * ({@code completed}, {@code partial}, {@code stopped} or {@code error}), never in between. {@code agents} is the
 * JSON array of the agents' names; their output is in the messages of {@code conversationId}.
 */
@Entity
@Table(name = "agent_runs")
public class RunRecord {

    @Id
    private String id;
    private String owner;
    @Column(name = "conversation_id")
    private String conversationId;
    private String task;
    private String agents;
    private String model;
    private String status;
    @Column(name = "end_reason")
    private String endReason;
    @Column(name = "created_at")
    private Instant createdAt;
    @Column(name = "ended_at")
    private Instant endedAt;
    @Column(name = "node_id")
    private String nodeId;

    protected RunRecord() {
    }

    /** A run that starts now, with status {@code running}. */
    public RunRecord(String id, String owner, String conversationId, String task, String agentsJson, String model,
                     Instant createdAt) {
        this.id = id;
        this.owner = owner;
        this.conversationId = conversationId;
        this.task = task;
        this.agents = agentsJson;
        this.model = model;
        this.status = "running";
        this.createdAt = createdAt;
    }

    /** Records how the run ended. */
    public void ended(String status, String endReason, Instant endedAt) {
        this.status = status;
        this.endReason = endReason;
        this.endedAt = endedAt;
    }

    public String getId() {
        return id;
    }

    public String getOwner() {
        return owner;
    }

    public String getConversationId() {
        return conversationId;
    }

    public String getTask() {
        return task;
    }

    public String getAgents() {
        return agents;
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

    public Instant getCreatedAt() {
        return createdAt;
    }

    public Instant getEndedAt() {
        return endedAt;
    }

    /** The node that runs it (its id per start; issue 10), or {@code null} for older records. */
    public String getNodeId() {
        return nodeId;
    }

    public void setNodeId(String nodeId) {
        this.nodeId = nodeId;
    }
}
