package io.sluice.chat.control;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamStarter;
import io.sluice.streams.control.StreamType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Starts chat turns and the typed tasks ({@code conversation_title}, {@code topic_title},
 * {@code prompt_optimization}, {@code system_prompt}) for {@code POST /api/streams} (API.md section 3, "What each
 * type reads from the body"): checks the fields each type reads, then hands over to {@link Chats}. Every
 * {@linkplain StreamType#creatable() creatable} type is started here. Stateless and thread-safe.
 */
@ApplicationScoped
public class ChatStarter implements StreamStarter {

    @Inject
    Chats chats;
    @Inject
    ConversationStore conversations;

    @Override
    public boolean starts(StreamType type) {
        return type.creatable();
    }

    /**
     * {@code chat} reads {@code conversationId}, {@code message} and {@code systemPrompt}; {@code conversation_title}
     * the conversation in {@code relatedId} (or {@code conversationId}), which must be the owner's; the others a
     * non-blank {@code input}, an optional {@code relatedId} (at most 200 chars) and, for {@code system_prompt},
     * {@code metadata.name} (at most 200 chars).
     *
     * @throws ProblemException 400 for a missing or blank field, 404 for an unknown or foreign conversation, 429 or
     *                          503 at a cap
     */
    @Override
    public Stream start(String owner, StreamType type, Request input) {
        String model = input.model();
        if (type == StreamType.CHAT) {
            return chats.startChat(owner, input.conversationId(), input.message(), model, input.systemPrompt());
        }
        if (type == StreamType.CONVERSATION_TITLE) {
            String conversationId = input.relatedId() != null ? input.relatedId() : input.conversationId();
            if (conversationId == null || conversationId.isBlank()) {
                throw ProblemException.badRequest("relatedId must name the conversation to title");
            }
            conversations.get(owner, conversationId);
            return chats.startTask(owner, type, conversationId, null, null, model);
        }
        String text = input.input();
        if (text == null || text.isBlank()) {
            throw ProblemException.badRequest("input is required and must not be blank for " + type.wire());
        }
        String relatedId = JsonBodies.optional(input.relatedId(), "relatedId", 200);
        String name = input.metadata() == null ? null
                : JsonBodies.optional(input.metadata().get("name"), "metadata.name", 200);
        return chats.startTask(owner, type, relatedId, text, name, model);
    }
}
