package io.sluice.conversations.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryTest {

    private final List<Message> rows = new ArrayList<>();

    private Message user(String id, String text) {
        Message m = new Message(id, "c", rows.size() + 1, "user", text, MessageStatus.COMPLETED, Instant.EPOCH);
        rows.add(m);
        return m;
    }

    private Message answer(String id, String parent, String text, boolean active) {
        Message m = new Message(id, "c", rows.size() + 1, "assistant", text, MessageStatus.COMPLETED, Instant.EPOCH);
        m.setParentId(parent);
        m.setActive(active);
        rows.add(m);
        return m;
    }

    /** The rows as the store's query gives them: active only, newest first. */
    private List<Message> window() {
        List<Message> active = new ArrayList<>(rows.stream().filter(Message::isActive).toList());
        Collections.reverse(active);
        return active;
    }

    private static List<String> texts(List<Turn.Entry> history) {
        return history.stream().map(e -> e.role() + ":" + e.content()).toList();
    }

    @Test
    void eachUserMessageIsFollowedByItsActiveAnswerEvenWhenTheVersionCameLater() {
        user("u1", "Q1");
        answer("a1", "u1", "A1 first", false);
        user("u2", "Q2");
        answer("a2", "u2", "A2", true);
        answer("a1b", "u1", "A1 second", true); // regenerated after the second turn: a later seq
        assertEquals(List.of("user:Q1", "assistant:A1 second", "user:Q2", "assistant:A2"),
                texts(History.of(window(), null)));
    }

    @Test
    void regeneratingStopsBeforeTheUserMessageAnsweredAgain() {
        user("u1", "Q1");
        answer("a1", "u1", "A1", true);
        user("u2", "Q2");
        answer("a2", "u2", "A2", false); // the version being replaced is inactive already
        assertEquals(List.of("user:Q1", "assistant:A1"), texts(History.of(window(), "u2")));
        assertEquals(List.of(), texts(History.of(window(), "u1")));
    }

    @Test
    void agentMessagesEmptyAnswersAndAnswersOutsideTheWindowAreLeftOut() {
        user("u1", "Q1");
        answer("a1", "u1", "", true);
        Message agent = new Message("g", "c", rows.size() + 1, "assistant", "plan", MessageStatus.COMPLETED,
                Instant.EPOCH);
        agent.setAgent("planner");
        rows.add(agent);
        user("u2", "Q2");
        answer("a2", "u2", "A2", true);
        answer("late", "u0", "an answer to a user message outside the window", true);
        assertEquals(List.of("user:Q1", "user:Q2", "assistant:A2"), texts(History.of(window(), null)));
    }

    @Test
    void twoActiveVersionsUseTheLaterAndAnswersWithoutParentKeepTheirPlace() {
        user("u1", "Q1");
        answer("old", null, "saved before versions", true);
        user("u2", "Q2");
        answer("a2", "u2", "A2 one", true);
        answer("a2b", "u2", "A2 two", true);
        assertEquals(List.of("user:Q1", "assistant:saved before versions", "user:Q2", "assistant:A2 two"),
                texts(History.of(window(), null)));
    }
}
