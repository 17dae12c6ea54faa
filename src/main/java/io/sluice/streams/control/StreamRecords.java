package io.sluice.streams.control;

import io.sluice.streams.entity.StreamRecord;
import jakarta.ejb.Stateless;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.Optional;

/** Writes stream records at start and end (two writes per stream) and reads them back. */
@Stateless
public class StreamRecords {

    @PersistenceContext(unitName = "sluice")
    EntityManager em;

    /** Records a stream that starts now. */
    public void started(Stream stream) {
        em.persist(new StreamRecord(stream.id(), stream.type().wire(), stream.relatedId(), stream.owner(),
                stream.conversationId(), stream.model(), stream.status().wire(), stream.createdAt()));
    }

    /** Records how a stream ended; {@code content} is kept for typed streams only. */
    public void ended(Stream stream) {
        StreamRecord record = em.find(StreamRecord.class, stream.id());
        if (record == null) {
            return;
        }
        Stream.End end = stream.end();
        String content = stream.type() == StreamType.CHAT ? null : stream.content();
        record.ended(stream.status().wire(), end == null ? null : end.reason(), stream.messageId(), content,
                stream.endedAt() != null ? stream.endedAt() : Instant.now());
    }

    /** The record of an owner's stream; empty for unknown ids and other owners' streams. */
    public Optional<StreamRecord> find(String owner, String id) {
        StreamRecord record = id == null ? null : em.find(StreamRecord.class, id);
        return record != null && record.getOwner().equals(owner) ? Optional.of(record) : Optional.empty();
    }
}
