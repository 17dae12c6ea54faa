package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.Stream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * API.md section 13: what a resume or abort body names ({@link StreamTarget}), and the topic title that a saved
 * conversation title starts, or not ({@code SLUICE_TOPIC_TITLES}).
 */
class SeedShapesTest {

    @Test
    void aBodyNamesAStreamOrAConversationAndTheStreamIdWins() {
        assertEquals(new StreamTarget("s1", null), StreamTarget.of("s1", null));
        assertEquals(new StreamTarget(null, "c1"), StreamTarget.of(null, " c1 "));
        assertEquals(new StreamTarget("s1", null), StreamTarget.of(" s1", "c1"), "both: the stream id wins");
        assertEquals(new StreamTarget(null, "c1"), StreamTarget.of("  ", "c1"), "a blank stream id is absent");
        assertTrue(StreamTarget.of(null, "c1").byConversation());
        assertFalse(StreamTarget.of("s1", "c1").byConversation());
        for (String[] neither : new String[][] {{null, null}, {"", " "}, {"\t", null}}) {
            ProblemException e = assertThrows(ProblemException.class, () -> StreamTarget.of(neither[0], neither[1]));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().contains("streamId"), e.getMessage());
        }
    }

    @Test
    void anAbortByConversationDefaultsToUnloadAndByStreamToUser() {
        // seed 001's beacon {"conversationId"} is sent on page unload; section 3's {"streamId"} kept its default
        assertEquals("unload", StreamTarget.of(null, "c").abortReason(null));
        assertEquals("unload", StreamTarget.of(null, "c").abortReason(" "));
        assertEquals("user", StreamTarget.of("s", null).abortReason(null));
        assertEquals("closed", StreamTarget.of(null, "c").abortReason(" closed "));
        assertEquals("unload", StreamTarget.of("s", null).abortReason("unload"));
        assertEquals("r".repeat(64), StreamTarget.of("s", null).abortReason("r".repeat(64)));
        ProblemException e = assertThrows(ProblemException.class,
                () -> StreamTarget.of(null, "c").abortReason("r".repeat(65)));
        assertEquals(400, e.status());
    }

    @Test
    void aSavedTitleStartsTheTopicTitleUnlessTopicTitlesAreOff() {
        TitleSaved saved = new TitleSaved("anon:1", "c1", "Rivers and Valleys", "How do rivers shape valleys?", "m");
        assertEquals(List.of(saved), topicsStarted(null, saved), "on by default");
        assertEquals(List.of(saved), topicsStarted("true", saved));
        assertEquals(List.of(), topicsStarted("false", saved), "SLUICE_TOPIC_TITLES=false: none starts");
        assertEquals(List.of(), topicsStarted("off", saved));
    }

    @Test
    void aTopicThatCannotStartLeavesTheTitleAlone() {
        Chats chats = chats(null, saved -> {
            throw new ProblemException(429, "too-many-streams", "at most 16 running streams per user");
        });
        chats.topicAfterTitle(new TitleSaved("o", "c", "T", "Q", null)); // logged, not thrown into the commit
    }

    /** The topic streams a {@code TitleSaved} starts, with {@code SLUICE_TOPIC_TITLES} set to {@code setting}. */
    private static List<TitleSaved> topicsStarted(String setting, TitleSaved saved) {
        List<TitleSaved> started = new ArrayList<>();
        chats(setting, started::add).topicAfterTitle(saved);
        return started;
    }

    private static Chats chats(String setting, java.util.function.Consumer<TitleSaved> start) {
        Chats chats = new Chats() {
            @Override
            Stream startTopic(TitleSaved saved) {
                start.accept(saved);
                return null;
            }
        };
        chats.config = new SluiceConfig() {
            @Override
            public boolean topicTitles() {
                // MicroProfile Config's boolean conversion: true, 1, yes, y, on (any case) are true
                return setting == null || List.of("true", "1", "yes", "y", "on").contains(setting.toLowerCase());
            }
        };
        return chats;
    }
}
