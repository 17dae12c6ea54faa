package io.sluice.chat.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.ProblemException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** API.md section 13: which requests are seed 004's generate, and which answer they want. */
class GenerateAliasTest {

    @Test
    void thePathIsTheSeedsGenerateRelativeToApi() {
        assertTrue(GenerateAlias.isAlias("v1/ai/generate"), "Jersey's relative path");
        assertTrue(GenerateAlias.isAlias("/v1/ai/generate"), "RESTEasy's");
        assertTrue(GenerateAlias.isAlias("/v1/ai/generate/"));
        for (String other : new String[] {null, "", "/", "generate", "v1/ai/generate2", "v1/ai", "/v1/ai/generate/x",
                "v1/ai//generate", "V1/AI/GENERATE", "api/v1/ai/generate"}) {
            assertFalse(GenerateAlias.isAlias(other), String.valueOf(other));
        }
    }

    @Test
    void theQueryDecidesFirst() {
        assertEquals(Boolean.TRUE, GenerateAlias.fromQuery("true"));
        assertEquals(Boolean.TRUE, GenerateAlias.fromQuery("TRUE"));
        assertEquals(Boolean.FALSE, GenerateAlias.fromQuery("false"));
        assertNull(GenerateAlias.fromQuery(null), "no parameter: the body decides");
        for (String bad : new String[] {"", "yes", "1", "tru"}) {
            ProblemException e = assertThrows(ProblemException.class, () -> GenerateAlias.fromQuery(bad), bad);
            assertEquals(400, e.status());
        }
    }

    @Test
    void withoutTheQueryTheBodysStreamDecides() {
        assertEquals(Boolean.TRUE, body("{\"prompt\":\"写一段故事\",\"stream\":true}"), "seed 004's fetch and k6 bodies");
        assertEquals(Boolean.FALSE, body("{\"prompt\":\"p\",\"stream\":false}"));
        assertNull(body("{\"prompt\":\"p\"}"), "absent: the JSON answer");
        assertNull(body("{\"prompt\":\"p\",\"stream\":null}"));
        assertNull(body("not json"), "the resource answers a malformed body's 400");
        assertNull(body("[true]"));
        assertNull(body(""));
        assertNull(body("[".repeat(100_000)), "nesting past the limit is the resource's 400, not a stack overflow");
        for (String bad : new String[] {"{\"stream\":\"true\"}", "{\"stream\":1}", "{\"stream\":{}}"}) {
            ProblemException e = assertThrows(ProblemException.class, () -> body(bad), bad);
            assertEquals(400, e.status());
        }
    }

    private static Boolean body(String json) {
        return GenerateAlias.fromBody(json.getBytes(StandardCharsets.UTF_8));
    }
}
