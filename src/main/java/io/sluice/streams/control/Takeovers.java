package io.sluice.streams.control;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.streams.entity.StreamRecord;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The database side of taking over a lost node's streams (issue 10, crash survival): which nodes have open stream
 * records, which records a node left open, and closing one, exactly once, with the text that reached Redis.
 */
@Stateless
public class Takeovers {

    @PersistenceContext(unitName = "sluice")
    EntityManager em;

    /** The result of closing a lost stream: its saved answer's id, or {@code null} where none is saved. */
    public record Closed(String messageId) {
    }

    /** The ids of the nodes that have stream records without an end (records without a node are left out). */
    public List<String> openNodes() {
        return em.createQuery("SELECT DISTINCT r.nodeId FROM StreamRecord r WHERE r.endedAt IS NULL "
                + "AND r.nodeId IS NOT NULL", String.class).getResultList();
    }

    /** The ids of the streams that {@code node} recorded and never ended. */
    public List<String> openStreams(String node) {
        return em.createQuery("SELECT r.id FROM StreamRecord r WHERE r.endedAt IS NULL AND r.nodeId = :node",
                String.class).setParameter("node", node).getResultList();
    }

    /**
     * Closes the record of a stream whose node was lost, in a transaction of its own: the record ends as
     * {@code error} with end reason {@code node_lost}; a chat stream's reserved answer is saved with
     * {@code content} and {@code reasoning} (what reached Redis), {@code partial}, {@code node_lost}; a typed
     * stream keeps its text in the record. The record is read with a write lock, so of two nodes that close it at
     * the same time one does, and the other finds it ended.
     *
     * @return empty when the record is unknown or ended already
     */
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public Optional<Closed> closeLost(String streamId, String content, String reasoning) {
        StreamRecord record = em.find(StreamRecord.class, streamId, LockModeType.PESSIMISTIC_WRITE);
        if (record == null || record.getEndedAt() != null) {
            return Optional.empty();
        }
        Instant now = Instant.now();
        String messageId = null;
        boolean chat = StreamType.CHAT.wire().equals(record.getType());
        if (chat && record.getMessageId() != null && record.getAnswerSeq() != null
                && record.getConversationId() != null && em.find(Message.class, record.getMessageId()) == null) {
            Conversation conversation = ConversationStore.locked(em, record.getConversationId());
            if (conversation != null) {
                Message answer = new Message(record.getMessageId(), record.getConversationId(),
                        record.getAnswerSeq(), "assistant", content, MessageStatus.PARTIAL, record.getCreatedAt());
                answer.setReasoning(reasoning == null || reasoning.isEmpty() ? null : reasoning);
                answer.setEndReason(Reason.NODE_LOST.wire());
                answer.setModel(record.getModel());
                answer.setStreamId(streamId);
                answer.setParentId(record.getParentId());
                answer.setUpdatedAt(now);
                em.persist(answer);
                conversation.touch(now);
                messageId = answer.getId();
            }
        }
        boolean typed = !chat && !StreamType.AGENT.wire().equals(record.getType());
        record.ended(StreamStatus.ERROR.wire(), Reason.NODE_LOST.wire(), messageId, typed ? content : null, now);
        return Optional.of(new Closed(messageId));
    }
}
