package io.sluice.conversations.control;

import io.sluice.platform.control.Ids;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.problems.control.ProblemException;
import jakarta.ejb.Stateless;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.PersistenceContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Conversations and messages of their owners (API.md sections 4 and 6). Every lookup takes the owner key:
 * a conversation of someone else is reported exactly like a missing one ({@link ProblemException} 404).
 * Each public method is one transaction; a failure leaves no row behind.
 */
@Stateless
public class ConversationStore {

    @PersistenceContext(unitName = "sluice")
    EntityManager em;

    /** The owner's conversations, most recently updated first. */
    public List<Conversation> list(String owner) {
        return em.createNamedQuery(Conversation.BY_OWNER, Conversation.class)
                .setParameter("owner", owner)
                .getResultList();
    }

    /** Creates a conversation; {@code title} must already be valid (non-blank, at most 200 chars). */
    public Conversation create(String owner, String title, String systemPrompt, String model) {
        Conversation conversation = new Conversation(owner, title, systemPrompt, model, Instant.now());
        em.persist(conversation);
        return conversation;
    }

    /**
     * @throws ProblemException 404 when the id is unknown or belongs to another owner
     */
    public Conversation get(String owner, String id) {
        Conversation conversation = id == null ? null : em.find(Conversation.class, id);
        if (conversation == null || !conversation.getOwner().equals(owner)) {
            throw ProblemException.notFound("conversation");
        }
        return conversation;
    }

    /**
     * The conversation's messages in order.
     *
     * @throws ProblemException 404 as {@link #get}
     */
    public List<Message> messages(String owner, String conversationId) {
        get(owner, conversationId);
        return em.createNamedQuery(Message.BY_CONVERSATION, Message.class)
                .setParameter("conversation", conversationId)
                .getResultList();
    }

    /** An owner's message by id; empty for unknown ids and other owners' messages. */
    public java.util.Optional<Message> message(String owner, String messageId) {
        Message message = messageId == null ? null : em.find(Message.class, messageId);
        if (message == null) {
            return java.util.Optional.empty();
        }
        Conversation conversation = em.find(Conversation.class, message.getConversationId());
        return conversation != null && conversation.getOwner().equals(owner) ? java.util.Optional.of(message)
                : java.util.Optional.empty();
    }

    /**
     * Deletes a conversation and its messages.
     *
     * @throws ProblemException 404 as {@link #get}
     */
    public void delete(String owner, String conversationId) {
        Conversation conversation = get(owner, conversationId);
        em.createQuery("DELETE FROM Message m WHERE m.conversationId = :c")
                .setParameter("c", conversationId).executeUpdate();
        em.remove(conversation);
    }

    /**
     * Starts a chat turn: finds the conversation (or creates one titled after the message), saves the user
     * message, reserves the position of the answer, and reads the history to send upstream, all in one
     * transaction, before any upstream call.
     *
     * @param conversationId  an existing conversation of the owner, or {@code null} for a new one
     * @param historyMessages how many earlier messages to include, at most
     * @throws ProblemException 404 when {@code conversationId} is unknown or someone else's
     */
    public Turn beginTurn(String owner, String conversationId, String text, String model, String systemPrompt,
                          int historyMessages) {
        Instant now = Instant.now();
        Conversation conversation;
        List<Message> earlier;
        boolean provisionalTitle = conversationId == null;
        if (conversationId == null) {
            conversation = new Conversation(owner, titleFrom(text), null, model, now);
            em.persist(conversation);
            earlier = List.of();
        } else {
            conversation = get(owner, conversationId);
            em.lock(conversation, LockModeType.PESSIMISTIC_WRITE);
            provisionalTitle = Conversation.DEFAULT_TITLE.equals(conversation.getTitle());
            earlier = em.createNamedQuery(Message.LATEST_BY_CONVERSATION, Message.class)
                    .setParameter("conversation", conversation.getId())
                    .setMaxResults(historyMessages)
                    .getResultList();
        }
        List<Turn.Entry> history = new ArrayList<>();
        for (Message message : earlier) {
            if (!message.getContent().isEmpty() && message.getAgent() == null) {
                history.add(new Turn.Entry(message.getRole(), message.getContent()));
            }
        }
        Collections.reverse(history);

        Message question = new Message(Ids.newId(), conversation.getId(), conversation.takeSeq(),
                "user", text, MessageStatus.COMPLETED, now);
        em.persist(question);
        int answerSeq = conversation.takeSeq();
        conversation.touch(now);

        String effectiveSystemPrompt = systemPrompt != null ? systemPrompt : conversation.getSystemPrompt();
        String effectiveModel = model != null ? model : conversation.getModel();
        return new Turn(owner, conversation.getId(), question.getId(), Ids.newId(), answerSeq,
                now, history, text, effectiveSystemPrompt, effectiveModel, provisionalTitle);
    }

    /**
     * Saves the assistant message of a turn, once, when its stream has ended. If the conversation was
     * deleted meanwhile, the answer has nowhere to go and is dropped ({@code false}).
     *
     * @return whether the message was saved
     */
    public boolean saveAnswer(Message answer) {
        Conversation conversation = em.find(Conversation.class, answer.getConversationId());
        if (conversation == null) {
            return false;
        }
        em.persist(answer);
        conversation.touch(answer.getUpdatedAt());
        return true;
    }

    /**
     * Sets a conversation's title (from a {@code conversation_title} stream); does nothing when the
     * conversation was deleted meanwhile or belongs to someone else.
     */
    public void setTitle(String owner, String conversationId, String title) {
        Conversation conversation = em.find(Conversation.class, conversationId);
        if (conversation != null && conversation.getOwner().equals(owner)) {
            conversation.setTitle(title.length() > Conversation.MAX_TITLE ? title.substring(0, Conversation.MAX_TITLE)
                    : title);
            conversation.touch(Instant.now());
        }
    }

    /** The first user message and the first answer of a conversation, for its title; empty strings if absent. */
    public String[] firstExchange(String owner, String conversationId) {
        List<Message> messages = messages(owner, conversationId);
        String question = "";
        String answer = "";
        for (Message m : messages) {
            if (question.isEmpty() && "user".equals(m.getRole())) {
                question = m.getContent();
            } else if (!question.isEmpty() && "assistant".equals(m.getRole()) && m.getAgent() == null) {
                answer = m.getContent();
                break;
            }
        }
        return new String[] {question, answer};
    }

    /** A title from the first line of a message: at most 60 code units, never blank. */
    public static String titleFrom(String text) {
        String line = text.strip().lines().findFirst().orElse("").strip();
        if (line.isEmpty()) {
            return Conversation.DEFAULT_TITLE;
        }
        if (line.length() <= 60) {
            return line;
        }
        int cut = 59;
        if (Character.isHighSurrogate(line.charAt(cut - 1))) {
            cut--;
        }
        return line.substring(0, cut).stripTrailing() + "…";
    }
}
