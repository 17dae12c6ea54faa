package io.sluice.warmup.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The parts of the warm-up that need no container: who may pass as it, and what its SSE reading sees. */
class WarmupTest {

    @Test
    void onlyAddressesOfThisMachineAreLocalAndNamesAreNeverLookedUp() {
        assertTrue(Warmup.local("127.0.0.1"));
        assertTrue(Warmup.local("127.4.5.6"));
        assertTrue(Warmup.local("::1"));
        assertTrue(Warmup.local("0:0:0:0:0:0:0:1"));
        assertFalse(Warmup.local("203.0.113.7"));
        assertFalse(Warmup.local("localhost"), "a name");
        assertFalse(Warmup.local(""));
        assertFalse(Warmup.local(null));
    }

    @Test
    void noRequestPassesAsTheWarmUpWhenNoneRuns() {
        Warmup warmup = new Warmup();
        assertFalse(warmup.admits("anything", "127.0.0.1"));
        assertFalse(warmup.admits(null, "127.0.0.1"));
        assertEquals(Warmup.State.WAITING, warmup.status().state());
        assertFalse(warmup.status().state().ready());
    }

    @Test
    void theEventsOfAStreamAreReadAsTheBrowserReadsThem() {
        WarmupTraffic.Events e = WarmupTraffic.Events.of("""
                event: stream\r
                id: 1\r
                data: {"streamId":"s1","conversationId":"c1","type":"chat"}\r
                \r
                event: message\r
                id: 2\r
                data: {"delta":"lorem ","isFinal":false}\r
                \r
                event: ping\r
                data: {"timestamp":1}\r
                \r
                event: message\r
                id: 3\r
                data: {"reasoning":"hm","isFinal":false}\r
                \r
                event: done\r
                id: 4\r
                data: {"messageId":"m","status":"completed"}\r
                \r
                """);
        assertEquals("s1", e.streamId);
        assertEquals("c1", e.conversationId);
        assertEquals(4, e.lastId);
        assertEquals(6, e.chars, "delta text only, in UTF-16 code units");
        assertTrue(e.done);
        assertNull(e.error);
        WarmupTraffic.Events failed = WarmupTraffic.Events.of("event: error\nid: 2\ndata: {\"code\":\"UPSTREAM_ERROR\"}\n\n");
        assertFalse(failed.done);
        assertTrue(failed.error.startsWith("error"), failed.error);
    }
}
