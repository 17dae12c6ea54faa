package io.sluice.identity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The anonymous identity read from raw {@code Cookie} headers (WebSocket handshakes). */
class OwnersTest {

    private static final String ID = "0f8fad5b-d9cb-469f-a165-70867728950e";

    @Test
    void findsTheIdentityCookieAmongOthers() {
        assertEquals(ID, Owners.anonymousIdFromHeaders(List.of("theme=dark; sluice_uid=" + ID + "; lang=en")));
        assertEquals(ID, Owners.anonymousIdFromHeaders(List.of("a=b", "sluice_uid=\"" + ID.toUpperCase() + "\"")));
    }

    @Test
    void ignoresMissingOrMalformedValues() {
        assertNull(Owners.anonymousIdFromHeaders(null));
        assertNull(Owners.anonymousIdFromHeaders(List.of("theme=dark")));
        assertNull(Owners.anonymousIdFromHeaders(List.of("sluice_uid=not-a-uuid")));
        assertNull(Owners.anonymousIdFromHeaders(List.of("xsluice_uid=" + ID)));
    }
}
