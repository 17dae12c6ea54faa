package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.entity.Conversation;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamStarter;
import io.sluice.streams.control.StreamType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code POST /api/streams} reads for each type (API.md section 3), checked before {@link Chats} starts it. */
class ChatStarterTest {

    private final List<String> calls = new ArrayList<>();
    private final ChatStarter starter = new ChatStarter();

    ChatStarterTest() {
        starter.chats = new Chats() {
            @Override
            public Stream startChat(String owner, String conversationId, String message, String model,
                                    String systemPrompt) {
                calls.add("chat " + owner + " " + conversationId + " " + message + " " + model + " " + systemPrompt);
                return null;
            }

            @Override
            public Stream startTask(String owner, StreamType type, String relatedId, String input, String name,
                                    String model) {
                calls.add(type.wire() + " " + relatedId + " " + input + " " + name + " " + model);
                return null;
            }
        };
        starter.conversations = new ConversationStore() {
            @Override
            public Conversation get(String owner, String id) {
                calls.add("owns " + owner + " " + id);
                return null;
            }
        };
    }

    private static StreamStarter.Request request(String relatedId, String conversationId, String message,
                                                 String input, Map<String, String> metadata) {
        return new StreamStarter.Request(relatedId, conversationId, message, input, "m", null, metadata);
    }

    @Test
    void startsEveryCreatableTypeAndNoOther() {
        for (StreamType type : StreamType.values()) {
            assertEquals(type.creatable(), starter.starts(type), type.wire());
        }
        assertFalse(starter.starts(StreamType.AGENT));
    }

    @Test
    void aConversationTitleNamesAConversationOfTheOwner() {
        ProblemException none = assertThrows(ProblemException.class, () -> starter.start("anon:me",
                StreamType.CONVERSATION_TITLE, request(null, " ", null, null, null)));
        assertEquals(400, none.status());
        assertEquals("relatedId must name the conversation to title", none.getMessage());
        assertTrue(calls.isEmpty());

        assertNull(starter.start("anon:me", StreamType.CONVERSATION_TITLE, request(null, "c-1", null, null, null)));
        assertEquals(List.of("owns anon:me c-1", "conversation_title c-1 null null m"), calls);
    }

    @Test
    void theOtherTasksNeedInputAndSystemPromptTakesItsName() {
        ProblemException blank = assertThrows(ProblemException.class, () -> starter.start("anon:me",
                StreamType.TOPIC_TITLE, request("r", null, null, "  ", null)));
        assertEquals("input is required and must not be blank for topic_title", blank.getMessage());

        starter.start("anon:me", StreamType.SYSTEM_PROMPT, request("r", null, null, "a helper",
                Map.of("name", "Ada")));
        starter.start("anon:me", StreamType.CHAT, request(null, "c-2", "hello", null, null));
        assertEquals(List.of("system_prompt r a helper Ada m", "chat anon:me c-2 hello m null"), calls);
    }
}
