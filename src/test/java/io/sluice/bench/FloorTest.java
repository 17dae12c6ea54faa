package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The floor measurement's one rule: which bytes count as the first content (as {@code LoadBench}'s direct call). */
class FloorTest {

    private static boolean holds(String s, int length) {
        return Floor.holdsContent(s.getBytes(StandardCharsets.US_ASCII), length);
    }

    private static boolean holds(String s) {
        return holds(s, s.length());
    }

    @Test
    void aDeltaWithTextIsContentAndTheRoleChunkIsNot() {
        assertTrue(holds("data: {\"choices\":[{\"delta\":{\"content\":\"lorem \"}}]}\n\n"));
        assertFalse(holds("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"));
        assertFalse(holds("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"));
    }

    @Test
    void onlyTheBytesReadCount() {
        String chunk = "data: {\"delta\":{\"content\":\"x\"}}";
        assertFalse(holds(chunk, chunk.indexOf("\"x\"") + 1), "the text's first byte has not arrived");
        assertTrue(holds(chunk, chunk.indexOf("\"x\"") + 2));
    }
}
