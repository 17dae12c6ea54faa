package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JsonInputTest {

    @Test
    void nestingUpToTheLimitPassesAndOneLevelMoreIsRefused() {
        String ok = "[".repeat(JsonInput.MAX_DEPTH) + "]".repeat(JsonInput.MAX_DEPTH);
        assertNull(JsonInput.problem(ok));
        String deep = "{\"a\":" + "[".repeat(JsonInput.MAX_DEPTH) + "]".repeat(JsonInput.MAX_DEPTH) + "}";
        assertTrue(JsonInput.problem(deep).contains("nested deeper"));
        assertNotNull(JsonInput.problem("{\"m\":" + "[".repeat(1000)), "unbalanced, still refused before parsing");
    }

    @Test
    void bracketsInsideStringsDoNotCount() {
        assertNull(JsonInput.problem("{\"message\":\"" + "[{".repeat(500) + "\\\"[\"}"));
    }

    @Test
    void loneSurrogateEscapesAreRefusedAndPairsPass() {
        assertNotNull(JsonInput.problem("{\"task\":\"a\\udfff\"}"));
        assertNotNull(JsonInput.problem("{\"task\":\"a\\ud83d\"}"));
        assertNotNull(JsonInput.problem("{\"task\":\"a\\ud83d\\u0041\"}"));
        assertNotNull(JsonInput.problem("{\"task\":\"\\uDE00\\uD83D\"}"), "a pair in the wrong order");
        assertNull(JsonInput.problem("{\"task\":\"a\\ud83d\\ude00 b\"}"));
        assertNull(JsonInput.problem("{\"task\":\"\\\\udfff\"}"), "an escaped backslash, then text");
        assertNull(JsonInput.problem("{\"task\":\"\\u00e9\\n\"}"));
        assertNotNull(JsonInput.problem("{\"runId\":\"\\u0000\"}"), "NUL cannot be stored");
    }

    @Test
    void rawUnpairedSurrogatesAreRefusedAndPairsPass() {
        assertNotNull(JsonInput.problem("{\"task\":\"a\udfff\"}"));
        assertNotNull(JsonInput.problem("{\"task\":\"a\ud83d\"}"));
        assertNull(JsonInput.problem("{\"task\":\"a\ud83d\ude00\"}"));
    }
}
