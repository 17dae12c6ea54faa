package io.sluice.conversations.entity;

import io.sluice.platform.control.Ids;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A conversation of one owner: its title (and the topic generated after it), optional system prompt and model, and a
 * counter that hands out
 * the positions ({@code seq}) of its messages, so that an answer sits right after the question it answers
 * even when several streams of one conversation end in another order.
 */
@Entity
@Table(name = "conversations")
@NamedQuery(name = Conversation.BY_OWNER,
        query = "SELECT c FROM Conversation c WHERE c.owner = :owner ORDER BY c.updatedAt DESC, c.id")
public class Conversation {

    public static final String BY_OWNER = "Conversation.byOwner";
    /** Title of a conversation created without one; a title stream may replace it. */
    public static final String DEFAULT_TITLE = "New conversation";
    /** Longest model name, in UTF-16 code units. */
    public static final int MAX_MODEL = 200;
    /** Longest system prompt, in UTF-16 code units. */
    public static final int MAX_SYSTEM_PROMPT = 32_000;
    /** Longest title in UTF-16 code units. */
    public static final int MAX_TITLE = 200;
    /** Longest topic in UTF-16 code units (the column's size; generated topics are much shorter). */
    public static final int MAX_TOPIC = 200;

    @Id
    private String id;
    private String owner;
    private String title;
    @Column(name = "system_prompt")
    private String systemPrompt;
    private String model;
    @Column(name = "next_seq")
    private int nextSeq;
    @Column(name = "title_by_user")
    private boolean titleByUser;
    /** The broader subject, from a {@code topic_title} stream after the generated title (API.md section 13). */
    private String topic;
    @Column(name = "created_at")
    private Instant createdAt;
    @Column(name = "updated_at")
    private Instant updatedAt;

    protected Conversation() {
    }

    public Conversation(String owner, String title, String systemPrompt, String model, Instant now) {
        this.id = Ids.newId();
        this.owner = owner;
        this.title = title;
        this.systemPrompt = systemPrompt;
        this.model = model;
        this.nextSeq = 1;
        this.createdAt = now;
        this.updatedAt = now;
    }

    /** Hands out the next message position (1, 2, ...). */
    public int takeSeq() {
        return nextSeq++;
    }

    public void touch(Instant now) {
        this.updatedAt = now;
    }

    public String getId() {
        return id;
    }

    public String getOwner() {
        return owner;
    }

    public String getTitle() {
        return title;
    }

    public void setTitle(String title) {
        this.title = title;
    }

    /** Whether the user chose the title (at creation or by a rename): a generated title never replaces it. */
    public boolean isTitleByUser() {
        return titleByUser;
    }

    /** Sets a title the user chose; from then on generated titles leave it alone. */
    public void setUserTitle(String title) {
        this.title = title;
        this.titleByUser = true;
    }

    /** The conversation's topic, generated after its title (seed 003's chain), or {@code null} before (or without). */
    public String getTopic() {
        return topic;
    }

    /** Sets the topic; one longer than {@value #MAX_TOPIC} UTF-16 code units is cut. */
    public void setTopic(String topic) {
        this.topic = topic == null || topic.length() <= MAX_TOPIC ? topic : topic.substring(0, MAX_TOPIC);
    }

    public String getSystemPrompt() {
        return systemPrompt;
    }

    public String getModel() {
        return model;
    }

    public Instant getCreatedAt() {
        return createdAt;
    }

    public Instant getUpdatedAt() {
        return updatedAt;
    }
}
