package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The event log's contract: contiguous ids, reads after any id, one end, followers woken, the resume grace. */
class MemoryEventLogTest {

    @Test
    void idsAreContiguousAndEveryPositionReadsTheRest() {
        MemoryEventLog<String> log = new MemoryEventLog<>(60_000);
        for (int i = 1; i <= 10; i++) {
            assertEquals(i, log.append("e" + i));
        }
        assertEquals(10, log.lastId());
        for (long after = 0; after <= 12; after++) {
            List<EventLog.Logged<String>> rest = log.after(after, 100);
            assertEquals(Math.max(0, 10 - after), rest.size(), "after " + after);
            for (int i = 0; i < rest.size(); i++) {
                assertEquals(after + i + 1, rest.get(i).id());
                assertEquals("e" + (after + i + 1), rest.get(i).entry());
            }
        }
        assertEquals(3, log.after(4, 3).size(), "at most max entries");
        assertEquals(1, log.after(4, 0).size(), "a max below 1 reads one entry");
        assertEquals(1, log.after(-5, 1).get(0).id(), "a negative id reads from the start");
    }

    @Test
    void theLastEntryEndsTheLog() {
        MemoryEventLog<String> log = new MemoryEventLog<>(60_000);
        log.append("a");
        assertFalse(log.terminated());
        assertEquals(2, log.terminate("end"));
        assertTrue(log.terminated());
        assertThrows(IllegalStateException.class, () -> log.append("late"));
        assertThrows(IllegalStateException.class, () -> log.terminate("again"));
        assertEquals("end", log.after(1, 10).get(0).entry());
    }

    @Test
    void followersAreWokenOnFollowAndOnEveryAppendUntilTheyLeave() {
        MemoryEventLog<String> log = new MemoryEventLog<>(60_000);
        AtomicInteger wakes = new AtomicInteger();
        Follower follower = wakes::incrementAndGet;
        log.follow(follower);
        assertEquals(1, wakes.get(), "a new follower reads what is there");
        log.append("a");
        log.terminate("b");
        assertEquals(3, wakes.get());
        assertEquals(1, log.followerCount());
        log.unfollow(follower);
        log.unfollow(follower);
        assertEquals(0, log.followerCount());
    }

    @Test
    void theGraceRunsOnlyWhileNobodyFollowsAndAttentionRestartsIt() throws Exception {
        MemoryEventLog<String> log = new MemoryEventLog<>(300);
        Follower follower = () -> { };
        log.follow(follower);
        Thread.sleep(350);
        assertEquals(300, log.graceLeftMillis(), "followed: the whole period is left");
        log.unfollow(follower);
        Thread.sleep(200);
        long left = log.graceLeftMillis();
        assertTrue(left > 0 && left <= 100, "counted from the last follower's leaving: " + left);
        long before = System.nanoTime();
        log.attended();
        assertTrue(log.attendedAfter(before));
        assertTrue(log.graceLeftMillis() > 200, "a poll restarts the grace");
        Thread.sleep(350);
        assertEquals(0, log.graceLeftMillis(), "run out");
    }
}
