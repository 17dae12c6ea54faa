package io.sluice.streams.control;

import io.sluice.platform.control.Redis;
import io.sluice.streams.entity.StreamRecord;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Writes stream records at start and end (two writes per stream, each joining the caller's transaction: a chat
 * turn's, or a {@link GroupCommit} batch) and reads them back.
 */
@Stateless
public class StreamRecords {

    @PersistenceContext(unitName = "sluice")
    EntityManager em;
    @Inject
    Redis redis;

    /** Records a stream that starts now, as {@code connecting}. */
    public void started(StreamSpec spec, String owner, Instant createdAt) {
        em.persist(connecting(spec, owner, createdAt));
    }

    /**
     * Records a chat stream that starts now, as {@code connecting}, with where its answer goes: the reserved message
     * id and position, and the user message it answers.
     */
    public void startedAnswer(StreamSpec spec, String owner, Instant createdAt, String answerId, int answerSeq,
                              String parentMessageId) {
        StreamRecord record = connecting(spec, owner, createdAt);
        record.reserveAnswer(answerId, answerSeq, parentMessageId);
        em.persist(record);
    }

    /** A new record, {@code connecting}, of a stream this node generates. */
    private StreamRecord connecting(StreamSpec spec, String owner, Instant createdAt) {
        StreamRecord record = new StreamRecord(spec.id(), spec.type().wire(), spec.relatedId(), owner,
                spec.conversationId(), spec.model(), StreamStatus.CONNECTING.wire(), createdAt);
        record.setNodeId(redis.nodeId());
        return record;
    }

    /**
     * Records how a stream ended; does nothing when its record is missing.
     *
     * @param content kept for typed streams (titles, rewritten prompts, system prompts), {@code null} for others
     */
    public void ended(String id, StreamStatus status, String endReason, String messageId, String content,
                      Instant endedAt) {
        StreamRecord record = em.find(StreamRecord.class, id);
        if (record != null) {
            record.ended(status.wire(), endReason, messageId, content, endedAt);
        }
    }

    /**
     * The chat streams of an owner's conversation, newest first (API.md section 13: resume and abort by
     * {@code conversationId}); a conversation of someone else, or an unknown one, has none. The records are what every
     * node of a cluster shares; the streams themselves are then found with {@link StreamHub#find} or
     * {@link StreamHub#require}.
     *
     * @param running only those still running (their record has no end yet)
     * @param max     most ids returned
     * @return the stream ids, newest first
     */
    public List<String> chatStreams(String owner, String conversationId, boolean running, int max) {
        if (owner == null || conversationId == null) {
            return List.of();
        }
        return em.createQuery("SELECT s.id FROM StreamRecord s WHERE s.conversationId = :c AND s.owner = :o"
                        + " AND s.type = :t" + (running ? " AND s.endedAt IS NULL" : "")
                        + " ORDER BY s.createdAt DESC, s.id DESC", String.class)
                .setParameter("c", conversationId)
                .setParameter("o", owner)
                .setParameter("t", StreamType.CHAT.wire())
                .setMaxResults(max)
                .getResultList();
    }

    /** The record of an owner's stream; empty for unknown ids and other owners' streams. */
    public Optional<StreamRecord> find(String owner, String id) {
        StreamRecord record = id == null ? null : em.find(StreamRecord.class, id);
        return record != null && record.getOwner().equals(owner) ? Optional.of(record) : Optional.empty();
    }
}
