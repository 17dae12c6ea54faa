package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The per-owner cap of streams, connections and runs: its atomic open, its give-back, and a shared count. */
class OwnerQuotaTest {

    private final ExecutorService threads = Executors.newFixedThreadPool(16);

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void anOwnerGetsUpToTheCapAndAPlaceGivenBackCanBeTakenAgain() {
        OwnerQuota quota = new OwnerQuota(() -> 2);
        assertTrue(quota.tryOpen("a"));
        assertTrue(quota.hasRoom("a"));
        assertTrue(quota.tryOpen("a"));
        assertFalse(quota.hasRoom("a"));
        assertFalse(quota.tryOpen("a"), "a third is refused");
        assertEquals(2, quota.count("a"), "and not counted");
        assertTrue(quota.tryOpen("b"), "another owner has a cap of its own");
        quota.close("a");
        assertEquals(1, quota.count("a"));
        assertTrue(quota.tryOpen("a"));
    }

    @Test
    void theLastPlaceGivenBackRunsWhenIdleInsideTheAtomicStepAndLeavesNoEntry() {
        OwnerQuota quota = new OwnerQuota(() -> 3);
        quota.tryOpen("a");
        quota.tryOpen("a");
        List<String> idle = new ArrayList<>();
        quota.close("a", () -> idle.add("a"));
        assertEquals(List.of(), idle, "the owner still holds a place");
        quota.close("a", () -> idle.add("a"));
        assertEquals(List.of("a"), idle);
        assertEquals(0, quota.count("a"));
        quota.close("a", () -> idle.add("again"));
        assertEquals(List.of("a"), idle, "closing more than was opened changes nothing");
        assertEquals(0, quota.count("a"));
    }

    @Test
    void aPlaceTheClusterRefusesIsGivenBackHereAndOneTakenIsGivenBackThere() {
        AtomicInteger elsewhere = new AtomicInteger(1); // the owner holds one place on another node
        OwnerQuota quota = new OwnerQuota(() -> 2, new OwnerQuota.Shared() {
            @Override
            public synchronized boolean take(String owner, int max) {
                if (elsewhere.get() >= max) {
                    return false;
                }
                elsewhere.incrementAndGet();
                return true;
            }

            @Override
            public void give(String owner) {
                elsewhere.decrementAndGet();
            }
        });
        assertTrue(quota.tryOpen("a"));
        assertEquals(2, elsewhere.get());
        assertFalse(quota.tryOpen("a"), "the cluster's count is at the cap");
        assertEquals(1, quota.count("a"), "the place taken here for it was given back");
        quota.close("a");
        assertEquals(1, elsewhere.get());
        assertEquals(0, quota.count("a"));
    }

    @Test
    void manyThreadsOpeningAtOnceAtTheLimitNeverExceedIt() throws Exception {
        int max = 4;
        OwnerQuota quota = new OwnerQuota(() -> max);
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger opened = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            done.add(threads.submit(() -> {
                go.await();
                for (int i = 0; i < 20_000; i++) {
                    if (quota.tryOpen("a")) {
                        opened.incrementAndGet();
                        most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                        holding.decrementAndGet();
                        quota.close("a");
                    }
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertTrue(most.get() <= max, "at most " + max + " held at once, saw " + most.get());
        assertTrue(opened.get() > 0);
        assertEquals(0, quota.count("a"), "every place was given back");
    }

    @Test
    void threadsThatAllOpenAndHoldGetExactlyTheCap() throws Exception {
        int max = 5;
        OwnerQuota quota = new OwnerQuota(() -> max);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> tries = new ArrayList<>();
        for (int t = 0; t < 64; t++) {
            tries.add(threads.submit(() -> {
                go.await();
                return quota.tryOpen("a");
            }));
        }
        go.countDown();
        int admitted = 0;
        for (Future<Boolean> f : tries) {
            admitted += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
        }
        assertEquals(max, admitted);
        assertEquals(max, quota.count("a"));
    }
}
