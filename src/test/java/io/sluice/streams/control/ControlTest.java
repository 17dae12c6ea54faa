package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.conversations.entity.MessageStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The control messages between nodes (issue 10): one codec, the wire shapes of {@link Control}. */
class ControlTest {

    @Test
    void everyMessageReadsBackEqual() {
        for (Control message : List.of(
                new Control.Stop("s-1", "anon:me", "user", MessageStatus.STOPPED),
                new Control.Stop("s-1", "anon:me", "a reason a client sent", MessageStatus.PARTIAL),
                new Control.Unload("s-2", "user:x", 2_000),
                new Control.Attend(List.of("s-1", "r-1")),
                new Control.Attend(List.of()),
                new Control.StopRun("r-1", "anon:me", "user", null),
                new Control.StopRun("r-1", "anon:me", "client_disconnected", "writer"),
                new Control.TabOpened("n-1", "anon:me", "s-1", "tab-1"))) {
            assertEquals(message, Control.decode(Control.encode(message)));
        }
    }

    @Test
    void theWireIsAnObjectNamedByOp() {
        assertEquals("{\"op\":\"stop\",\"id\":\"s\",\"owner\":\"o\",\"reason\":\"user\",\"status\":\"STOPPED\"}",
                Control.encode(new Control.Stop("s", "o", "user", MessageStatus.STOPPED)));
        assertEquals("{\"op\":\"unload\",\"id\":\"s\",\"owner\":\"o\",\"graceMillis\":5}",
                Control.encode(new Control.Unload("s", "o", 5)));
        assertEquals("{\"op\":\"attend\",\"ids\":[\"a\",\"b\"]}", Control.encode(new Control.Attend(List.of("a", "b"))));
        assertEquals("{\"op\":\"run_stop\",\"id\":\"r\",\"owner\":\"o\",\"reason\":\"user\",\"agent\":\"w\"}",
                Control.encode(new Control.StopRun("r", "o", "user", "w")));
        assertEquals(new Control.StopRun("r", "o", "user", null),
                Control.decode("{\"op\":\"run_stop\",\"id\":\"r\",\"owner\":\"o\"}"), "a run's stop is the user's");
        assertEquals("{\"op\":\"tab_opened\",\"node\":\"n\",\"owner\":\"o\",\"target\":\"s\",\"clientId\":\"t\"}",
                Control.encode(new Control.TabOpened("n", "o", "s", "t")));
        assertEquals(new Control.TabOpened("n", "o", "s", "t"),
                Control.decode("{\"node\":\"n\",\"owner\":\"o\",\"target\":\"s\",\"clientId\":\"t\"}"),
                "an earlier version's announcement, without op, on the same channel");
    }

    @Test
    void whatIsNotAMessageIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Control.decode("not json"));
        assertThrows(IllegalArgumentException.class, () -> Control.decode("{\"op\":\"reboot\"}"));
        assertThrows(IllegalArgumentException.class, () -> Control.decode("{\"id\":\"s\"}"));
        assertThrows(IllegalArgumentException.class, () -> Control.decode("{\"op\":\"stop\",\"id\":\"s\"}"));
        assertThrows(IllegalArgumentException.class, () -> Control.decode("{\"op\":\"unload\",\"id\":\"s\","
                + "\"owner\":\"o\",\"graceMillis\":\"soon\"}"));
    }
}
