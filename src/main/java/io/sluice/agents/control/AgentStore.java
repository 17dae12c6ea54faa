package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.agents.entity.RunRecord;
import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.Redis;
import jakarta.ejb.Stateless;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Persistence of multi-agent runs (API.md section 5): a run's start (its conversation, the task as the user
 * message, the positions of its agents' answers, and its record, in one transaction), each agent's message once
 * when the agent ends, and the run's end. Each public method is one transaction.
 */
@Stateless
public class AgentStore {

    @Inject
    Redis redis;
    @PersistenceContext(unitName = "sluice")
    EntityManager em;

    /**
     * What a run's start saved.
     *
     * @param conversationId the conversation created for the run (titled after the task)
     * @param userMessageId  the task, saved as the user message
     * @param seqs           the position reserved for each agent's message, by agent name
     */
    public record RunStart(String conversationId, String userMessageId, Map<String, Integer> seqs) {
    }

    /** Creates the run's conversation and user message, reserves its agents' positions, and records it. */
    public RunStart begin(String owner, String runId, String task, List<String> agents, String model) {
        Instant now = Instant.now();
        Conversation conversation = new Conversation(owner, ConversationStore.titleFrom(task), null, model, now);
        em.persist(conversation);
        Message question = new Message(Ids.newId(), conversation.getId(), conversation.takeSeq(), "user", task,
                MessageStatus.COMPLETED, now);
        em.persist(question);
        Map<String, Integer> seqs = new LinkedHashMap<>();
        var names = JSON.createArrayBuilder();
        for (String agent : agents) {
            seqs.put(agent, conversation.takeSeq());
            names.add(agent);
        }
        RunRecord run = new RunRecord(runId, owner, conversation.getId(), task, names.build().toString(), model, now);
        run.setNodeId(redis.nodeId());
        em.persist(run);
        return new RunStart(conversation.getId(), question.getId(), seqs);
    }

    /**
     * Saves an agent's message; drops it when the conversation was deleted meanwhile.
     *
     * @return whether it was saved
     */
    public boolean saveAgentMessage(Message message) {
        Conversation conversation = ConversationStore.locked(em, message.getConversationId());
        if (conversation == null) {
            return false;
        }
        em.persist(message);
        conversation.touch(message.getUpdatedAt());
        return true;
    }

    /** Records how a run ended. */
    public void ended(String runId, String status, String endReason, Instant endedAt) {
        RunRecord record = em.find(RunRecord.class, runId);
        if (record != null) {
            record.ended(status, endReason, endedAt);
        }
    }

    /** The record of an owner's run; empty for unknown ids and other owners' runs. */
    public Optional<RunRecord> find(String owner, String runId) {
        RunRecord record = runId == null ? null : em.find(RunRecord.class, runId);
        return record != null && record.getOwner().equals(owner) ? Optional.of(record) : Optional.empty();
    }
}
