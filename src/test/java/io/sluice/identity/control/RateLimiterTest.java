package io.sluice.identity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimiterTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void aBurstIsAllowedThenPermitsComeBackAtTheRate() {
        RateLimiter limiter = new RateLimiter(60, 3, 100); // one per second, three at once
        long t = 0;
        for (int i = 0; i < 3; i++) {
            assertEquals(0, limiter.acquire("10.0.0.1", t));
        }
        assertEquals(1, limiter.acquire("10.0.0.1", t), "the fourth waits a second");
        assertEquals(0, limiter.acquire("10.0.0.2", t), "another address has its own bucket");
        assertEquals(0, limiter.acquire("10.0.0.1", t + SECOND), "one permit back after a second");
        assertTrue(limiter.acquire("10.0.0.1", t + SECOND) >= 1);
        assertEquals(0, limiter.acquire("10.0.0.1", t + 100 * SECOND));
    }

    @Test
    void memoryIsBoundedByTheNumberOfKeys() {
        RateLimiter limiter = new RateLimiter(60, 2, 10);
        for (int i = 0; i < 1000; i++) {
            limiter.acquire("addr-" + i, i * SECOND / 1000);
            assertTrue(limiter.size() <= 10, "at most 10 buckets, was " + limiter.size());
        }
    }
}
