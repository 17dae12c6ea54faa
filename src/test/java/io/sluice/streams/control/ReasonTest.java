package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.platform.control.Database;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The end reasons keep the wire values of the string literals they replaced (API.md sections 2, 3 and 13). */
class ReasonTest {

    @Test
    void wireValuesAreTheOldLiterals() {
        assertEquals("user", Reason.USER.wire());
        assertEquals("unload", Reason.UNLOAD.wire());
        assertEquals("client_disconnected", Reason.CLIENT_DISCONNECTED.wire());
        assertEquals("server_shutdown", Reason.SERVER_SHUTDOWN.wire());
        assertEquals("node_lost", Reason.NODE_LOST.wire());
        assertEquals(Database.CRASHED, Reason.SERVER_CRASHED.wire());
    }

    @Test
    void readsBackOnlyItsOwnValues() {
        for (Reason r : Reason.values()) {
            assertEquals(Optional.of(r), Reason.fromWire(r.wire()));
        }
        assertEquals(Optional.empty(), Reason.fromWire("UPSTREAM_ERROR"));
        assertEquals(Optional.empty(), Reason.fromWire("tab closed"));
        assertEquals(Optional.empty(), Reason.fromWire(null));
    }
}
