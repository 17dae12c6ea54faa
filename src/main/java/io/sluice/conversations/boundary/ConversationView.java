package io.sluice.conversations.boundary;

import io.sluice.conversations.entity.Conversation;
import jakarta.json.bind.annotation.JsonbNillable;
import java.time.Instant;

/**
 * JSON view of a conversation (API.md section 4); absent values are sent as {@code null}. {@code titleByUser}
 * (an extension) tells a title the user chose, which generated titles never replace. {@code topic} (API.md section 13,
 * seed 003) is the short subject that a {@code topic_title} stream generates after the conversation's generated title,
 * or {@code null}.
 */
@JsonbNillable
public record ConversationView(String id, String title, String topic, String systemPrompt, String model,
                               Instant createdAt, Instant updatedAt, boolean titleByUser) {

    static ConversationView of(Conversation c) {
        return new ConversationView(c.getId(), c.getTitle(), c.getTopic(), c.getSystemPrompt(), c.getModel(),
                c.getCreatedAt(), c.getUpdatedAt(), c.isTitleByUser());
    }
}
