package io.sluice.agents.control;

import io.sluice.agents.entity.RunRecord;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.streams.control.LostLogs;
import io.sluice.streams.control.Reason;
import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.List;

/** The agent runs of a lost node (issue 10): when another node takes it over, they end as {@code partial}. */
@Stateless
public class LostRuns implements LostLogs {

    @PersistenceContext(unitName = "sluice")
    EntityManager em;

    /**
     * Ends the agent runs that {@code node} left running, as {@code partial} with {@code node_lost}
     * ({@link Reason#NODE_LOST}).
     *
     * @return their ids (each run's log in Redis is named by it)
     */
    @Override
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public List<String> closeLost(String node) {
        List<RunRecord> runs = em.createQuery("SELECT r FROM RunRecord r WHERE r.endedAt IS NULL AND r.nodeId = :node",
                RunRecord.class).setParameter("node", node).setLockMode(LockModeType.PESSIMISTIC_WRITE)
                .getResultList();
        Instant now = Instant.now();
        for (RunRecord run : runs) {
            run.ended(MessageStatus.PARTIAL.value(), Reason.NODE_LOST.wire(), now);
        }
        return runs.stream().map(RunRecord::getId).toList();
    }
}
