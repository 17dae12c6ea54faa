package io.sluice.identity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    private static String hex(String key) {
        return HexFormat.of().formatHex(ApiKeys.sha256(key));
    }

    @Test
    void inlinePairsAndHashedFileLinesNameTheirUsers() {
        ApiKeys keys = ApiKeys.parse("alice:sk-a, carol:with:colons", List.of(
                "# comment", "", "bob " + hex("sk-b"), "dave  " + hex("sk-d").toUpperCase()));
        assertTrue(keys.enabled());
        assertEquals(Optional.of("user:alice"), keys.ownerOf("sk-a"));
        assertEquals(Optional.of("user:carol"), keys.ownerOf("with:colons"), "the key is all after the first colon");
        assertEquals(Optional.of("user:bob"), keys.ownerOf("sk-b"));
        assertEquals(Optional.of("user:dave"), keys.ownerOf("sk-d"));
        assertEquals(Optional.empty(), keys.ownerOf("sk-c"));
        assertEquals(Optional.empty(), keys.ownerOf(""));
        assertEquals(Optional.empty(), keys.ownerOf(null));
        assertEquals("9c01d099f82865393a92aafe60cb75570672ddb575eedbe28d9b0444ce50c071", hex("it-key-bob"),
                "the hex SHA-256 of the key's UTF-8 bytes, as sha256sum prints it");
    }

    @Test
    void noKeysMeansDisabled() {
        assertFalse(ApiKeys.parse(null, null).enabled());
        assertFalse(ApiKeys.parse(" , ", List.of("# none")).enabled());
        assertFalse(ApiKeys.NONE.enabled());
    }

    @Test
    void malformedEntriesAreRefusedWithoutShowingTheKey() {
        var e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse("alice", null));
        assertTrue(e.getMessage().contains("entry 1"));
        e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse("bad user:sk-secret", null));
        assertFalse(e.getMessage().contains("sk-secret"));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(null, List.of("bob sk-plain-key")));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(null, List.of("bob " + hex("k") + " x")));
    }
}
