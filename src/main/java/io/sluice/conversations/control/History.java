package io.sluice.conversations.control;

import io.sluice.conversations.entity.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The history of a conversation as it is sent upstream: its user messages in order, each followed by its active
 * answer (README, "Extensions to API.md": versions). An answer that Regenerate added later has a later
 * {@code seq} than the turns after its user message, so the history cannot simply follow {@code seq}: each answer
 * is placed after the user message it names ({@code parentId}). Stateless and thread-safe.
 */
public final class History {

    private History() {
    }

    /**
     * @param newestFirst the latest messages of a conversation, newest first (a window of at most the history
     *                    length); inactive versions should already be left out, and when two versions of one user
     *                    message are active the later one is used
     * @param stopAt      a user message id: the history ends just before it (to answer it again), or {@code null}
     * @return role and content, oldest first: agents' messages, empty answers, and answers whose user message is not
     *         in the window are left out; an answer with no {@code parentId} (saved before versions existed)
     *         stays at its own place
     */
    public static List<Turn.Entry> of(List<Message> newestFirst, String stopAt) {
        Map<String, Message> answerOf = new HashMap<>();
        for (Message m : newestFirst) { // newest first: the first active answer seen for a parent is the latest
            if (isChatAnswer(m) && m.getParentId() != null && m.isActive()) {
                answerOf.putIfAbsent(m.getParentId(), m);
            }
        }
        List<Turn.Entry> history = new ArrayList<>();
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            Message m = newestFirst.get(i);
            if ("user".equals(m.getRole())) {
                if (m.getId().equals(stopAt)) {
                    break;
                }
                history.add(new Turn.Entry("user", m.getContent()));
                Message answer = answerOf.get(m.getId());
                if (answer != null && !answer.getContent().isEmpty()) {
                    history.add(new Turn.Entry("assistant", answer.getContent()));
                }
            } else if (isChatAnswer(m) && m.getParentId() == null && m.isActive() && !m.getContent().isEmpty()) {
                history.add(new Turn.Entry(m.getRole(), m.getContent()));
            }
        }
        return history;
    }

    private static boolean isChatAnswer(Message m) {
        return "assistant".equals(m.getRole()) && m.getAgent() == null;
    }
}
