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

    /**
     * Creates a conversation.
     *
     * @param title the user's title, already valid (non-blank, at most 200 chars), which generated titles will
     *              never replace; or {@code null} for {@link Conversation#DEFAULT_TITLE}, which the first answer's
     *              title stream replaces
     */
    public Conversation create(String owner, String title, String systemPrompt, String model) {
        Conversation conversation = new Conversation(owner, Conversation.DEFAULT_TITLE, systemPrompt, model,
                Instant.now());
        if (title != null) {
            conversation.setUserTitle(title);
        }
        em.persist(conversation);
        return conversation;
    }

    /**
     * Renames a conversation with a title the user chose (generated titles never replace it).
     *
     * @param title already valid: non-blank, at most {@link Conversation#MAX_TITLE} UTF-16 code units
     * @throws ProblemException 404 as {@link #get}
     */
    public Conversation rename(String owner, String conversationId, String title) {
        Conversation conversation = getLocked(owner, conversationId);
        conversation.setUserTitle(title);
        conversation.touch(Instant.now());
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
     * {@link #get}, with the conversation's row locked for the rest of the transaction ({@code SELECT ... FOR UPDATE})
     * and its state read under the lock. Every transaction that changes a conversation goes through here or
     * {@link #locked}: a JPA provider may write every column of a changed entity (Hibernate does, EclipseLink writes
     * the changed ones), so two transactions that read it unlocked could lose one's {@code next_seq} and then reuse a
     * position (issue 14). One row per transaction, so no deadlock.
     *
     * @throws ProblemException 404 as {@link #get}
     */
    public Conversation getLocked(String owner, String id) {
        Conversation conversation = id == null ? null : locked(em, id);
        if (conversation == null || !conversation.getOwner().equals(owner)) {
            throw ProblemException.notFound("conversation");
        }
        return conversation;
    }

    /** The conversation with its row locked as {@link #getLocked}, or {@code null} when there is none. */
    public static Conversation locked(EntityManager em, String id) {
        return em.find(Conversation.class, id, LockModeType.PESSIMISTIC_WRITE);
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

    /**
     * A page of the conversation's messages (README, "Extensions": paging of {@code GET .../messages}): the
     * {@code limit} messages just before position {@code before}, oldest first, and whether older ones exist. One
     * indexed range read of {@code limit + 1} rows (the unique index on conversation and position).
     *
     * @param before the position ({@code seq}) to page back from, exclusive; {@link Integer#MAX_VALUE} for the
     *               latest messages
     * @param limit  how many, at least 1
     * @throws ProblemException 404 as {@link #get}
     */
    public Page page(String owner, String conversationId, int before, int limit) {
        get(owner, conversationId);
        List<Message> newestFirst = em.createNamedQuery(Message.PAGE_BEFORE, Message.class)
                .setParameter("conversation", conversationId)
                .setParameter("before", before)
                .setMaxResults(limit + 1)
                .getResultList();
        boolean older = newestFirst.size() > limit;
        List<Message> page = new java.util.ArrayList<>(newestFirst.subList(0, Math.min(limit, newestFirst.size())));
        java.util.Collections.reverse(page);
        return new Page(page, older);
    }

    /**
     * A page of messages.
     *
     * @param messages oldest first
     * @param older    whether the conversation has messages before the first of them
     */
    public record Page(List<Message> messages, boolean older) {
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
     * A message of the owner's conversation that has a raw record (API.md section 13): an answer whose upstream request
     * was kept (chat answers and agents' messages).
     *
     * @throws ProblemException 404 when the conversation or the message is unknown, someone else's, not of that
     *                          conversation, or has no raw record (a user message; an answer written without its
     *                          stream: a lost node's, or one a crash interrupted)
     */
    public Message withRawRecord(String owner, String conversationId, String messageId) {
        get(owner, conversationId);
        Message message = messageId == null ? null : em.find(Message.class, messageId);
        if (message == null || !message.getConversationId().equals(conversationId)
                || message.getUpstreamRequest() == null) {
            throw ProblemException.notFound("raw record");
        }
        return message;
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
            conversation = getLocked(owner, conversationId);
            provisionalTitle = Conversation.DEFAULT_TITLE.equals(conversation.getTitle());
            earlier = latestActive(conversation.getId(), historyMessages);
        }
        List<Turn.Entry> history = History.of(earlier, null);

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
        Conversation conversation = locked(em, answer.getConversationId());
        if (conversation == null) {
            return false;
        }
        em.persist(answer);
        conversation.touch(answer.getUpdatedAt());
        return true;
    }

    /**
     * Sets a conversation's title (from a {@code conversation_title} stream); does nothing when the
     * conversation was deleted meanwhile, belongs to someone else, or has a title the user chose (even one chosen
     * while the title streamed).
     *
     * @return whether the title was set
     */
    public boolean setTitle(String owner, String conversationId, String title) {
        Conversation conversation = locked(em, conversationId);
        if (conversation != null && conversation.getOwner().equals(owner) && !conversation.isTitleByUser()) {
            conversation.setTitle(title.length() > Conversation.MAX_TITLE ? title.substring(0, Conversation.MAX_TITLE)
                    : title);
            conversation.touch(Instant.now());
            return true;
        }
        return false;
    }

    /**
     * Sets a conversation's topic (from the {@code topic_title} stream that its generated title started; API.md
     * section 13); does nothing when the conversation was deleted meanwhile or belongs to someone else. The
     * conversation's {@code updatedAt} stays: a topic is not activity.
     *
     * @param topic already cleaned, at most {@link Conversation#MAX_TOPIC} UTF-16 code units (longer is cut)
     * @return whether the topic was set
     */
    public boolean setTopic(String owner, String conversationId, String topic) {
        Conversation conversation = locked(em, conversationId);
        if (conversation == null || !conversation.getOwner().equals(owner)) {
            return false;
        }
        conversation.setTopic(topic);
        return true;
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

    /** The latest active messages of a conversation, newest first, at most {@code max}. */
    private List<Message> latestActive(String conversationId, int max) {
        return em.createNamedQuery(Message.LATEST_ACTIVE_BY_CONVERSATION, Message.class)
                .setParameter("conversation", conversationId)
                .setMaxResults(max)
                .getResultList();
    }

    /**
     * Starts a new version of the answer to a user message (Regenerate): the user message is not saved again, its
     * earlier answers become inactive, and the new answer's position is reserved. The history is the active path up
     * to that user message. All in one transaction, before any upstream call.
     *
     * @param parentId the user message to answer again
     * @throws ProblemException 404 when the conversation or the message is unknown, someone else's, or not a user
     *                          message of that conversation
     */
    public Turn beginRegeneration(String owner, String conversationId, String parentId, String model,
                                  String systemPrompt, int historyMessages) {
        Instant now = Instant.now();
        Conversation conversation = getLocked(owner, conversationId);
        Message parent = em.find(Message.class, parentId);
        if (parent == null || !parent.getConversationId().equals(conversationId) || !"user".equals(parent.getRole())) {
            throw ProblemException.notFound("user message");
        }
        for (Message version : versions(parentId)) {
            version.setActive(false);
        }
        em.flush();
        List<Turn.Entry> history = History.of(latestActive(conversationId, historyMessages), parentId);
        int answerSeq = conversation.takeSeq();
        conversation.touch(now);
        return new Turn(owner, conversationId, parentId, Ids.newId(), answerSeq, now, history, parent.getContent(),
                systemPrompt != null ? systemPrompt : conversation.getSystemPrompt(),
                model != null ? model : conversation.getModel(), false);
    }

    private List<Message> versions(String parentId) {
        return em.createNamedQuery(Message.VERSIONS, Message.class).setParameter("parent", parentId).getResultList();
    }

    /**
     * Makes one version of an answer the active one (the others of its user message become inactive).
     *
     * @throws ProblemException 404 when the conversation or the message is unknown or someone else's; 400 when the
     *                          message is not a chat answer (a user or agent message)
     */
    public Message activate(String owner, String conversationId, String messageId) {
        getLocked(owner, conversationId); // as a regeneration does, which changes the same versions
        Message answer = answerOf(owner, conversationId, messageId);
        for (Message version : versions(answer.getParentId())) {
            version.setActive(version.getId().equals(answer.getId()));
        }
        return answer;
    }

    /**
     * What Continue needs of a saved answer: its text so far, the user message it answers, and the history before
     * that (the active path).
     *
     * @throws ProblemException 404 as {@link #activate}; 400 when the message is not a chat answer or has no text
     */
    public Continuation beginContinuation(String owner, String conversationId, String messageId, int historyMessages) {
        Message answer = answerOf(owner, conversationId, messageId);
        if (answer.getContent().isEmpty()) {
            throw ProblemException.badRequest("the answer has no text to continue; regenerate it instead");
        }
        Message parent = em.find(Message.class, answer.getParentId());
        if (parent == null) {
            throw ProblemException.notFound("user message");
        }
        Conversation conversation = get(owner, conversationId);
        List<Turn.Entry> history = History.of(latestActive(conversationId, historyMessages), parent.getId());
        return new Continuation(owner, conversationId, answer.getId(), parent.getId(), parent.getContent(),
                answer.getContent(), history, conversation.getSystemPrompt(), answer.getModel() != null
                        ? answer.getModel() : conversation.getModel(), Instant.now());
    }

    /**
     * Joins a continuation to the answer it continues, once, when the continuation's stream has ended (Continue).
     * Nothing is saved when the answer was deleted meanwhile, or its text is no longer the one the continuation
     * started from (another continuation ended first).
     *
     * @param continuation the continuation's own message (its id is the answer's)
     * @param partial      the answer's text when the continuation started
     * @return whether the answer was updated
     */
    public boolean saveContinuation(Message continuation, String partial) {
        Message answer = em.find(Message.class, continuation.getId(), LockModeType.PESSIMISTIC_WRITE);
        if (answer == null || !answer.getContent().equals(partial)) {
            return false;
        }
        answer.continueWith(continuation);
        Conversation conversation = locked(em, answer.getConversationId());
        if (conversation != null) {
            conversation.touch(answer.getUpdatedAt());
        }
        return true;
    }

    /** A chat answer of the owner's conversation; 404 / 400 as {@link #activate}. */
    private Message answerOf(String owner, String conversationId, String messageId) {
        get(owner, conversationId);
        Message answer = messageId == null ? null : em.find(Message.class, messageId);
        if (answer == null || !answer.getConversationId().equals(conversationId)) {
            throw ProblemException.notFound("message");
        }
        if (!"assistant".equals(answer.getRole()) || answer.getAgent() != null || answer.getParentId() == null) {
            throw ProblemException.badRequest("the message is not an answer of the chat");
        }
        return answer;
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
