package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ThrottledWarningTest {

    private final Logger log = Logger.getLogger(ThrottledWarningTest.class.getName() + ".capture");
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final AtomicLong clock = new AtomicLong(1_000);

    @BeforeEach
    void capture() {
        log.setUseParentHandlers(false);
        log.addHandler(capture);
    }

    @AfterEach
    void release() {
        log.removeHandler(capture);
    }

    private void advance(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    @Test
    void writesTheFirstThenCountsUntilTheWindowHasPassed() {
        ThrottledWarning warning = new ThrottledWarning(log, 60_000, clock::get);
        int[] built = {0};
        for (int i = 0; i < 1_000; i++) {
            int n = i;
            warning.warn(() -> {
                built[0]++;
                return "write " + n + " failed";
            });
            advance(10);
        }
        assertEquals(1, records.size(), "1,000 failures within 10 s make one line");
        assertEquals("write 0 failed", records.get(0).getMessage());
        assertEquals(Level.WARNING, records.get(0).getLevel());
        assertEquals(1, built[0], "the lines not written are not built");

        advance(50_000); // 60 s after the first line
        IllegalStateException cause = new IllegalStateException("down");
        warning.warn(() -> "write 1000 failed", cause);
        assertEquals(2, records.size());
        assertEquals("write 1000 failed (and 999 more like it since the last one logged)", records.get(1).getMessage());
        assertSame(cause, records.get(1).getThrown());

        advance(120_000); // the next failure after a quiet spell: no count, since none was held back
        warning.warn(() -> "write 1001 failed");
        assertEquals("write 1001 failed", records.get(2).getMessage());
    }

    @Test
    void oneLineAWindowUnderSteadyFailures() {
        ThrottledWarning warning = new ThrottledWarning(log, 1_000, clock::get);
        for (int i = 0; i < 10_000; i++) { // 10 s of a failure every millisecond
            warning.warn(() -> "down");
            advance(1);
        }
        assertEquals(10, records.size());
        assertEquals("down", records.get(0).getMessage());
        for (LogRecord r : records.subList(1, records.size())) {
            assertEquals("down (and 999 more like it since the last one logged)", r.getMessage());
        }
    }

    @Test
    void refusesAWindowThatIsNotPositive() {
        assertThrows(IllegalArgumentException.class, () -> new ThrottledWarning(log, 0));
    }
}
