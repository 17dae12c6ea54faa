package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The single drainer loop: no lost wake, never two runs at once, closed exactly once. */
class PumpTest {

    private final ExecutorService pool = Executors.newFixedThreadPool(4);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void closesExactlyOnceWhenManyThreadsCloseAtOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            AtomicInteger closings = new AtomicInteger();
            Pump pump = new Pump(pool) {
                @Override
                protected void pump() {
                }

                @Override
                protected void closed() {
                    closings.incrementAndGet();
                }
            };
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(8);
            AtomicInteger winners = new AtomicInteger();
            for (int t = 0; t < 8; t++) {
                new Thread(() -> {
                    try {
                        go.await();
                        if (pump.close()) {
                            winners.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        done.countDown();
                    }
                }).start();
            }
            go.countDown();
            assertTrue(done.await(5, TimeUnit.SECONDS));
            assertEquals(1, closings.get(), "round " + round);
            assertEquals(1, winners.get(), "round " + round);
            assertTrue(pump.isClosed());
        }
    }

    @Test
    void everyWakeIsSeenAndRunsNeverOverlap() throws Exception {
        AtomicInteger produced = new AtomicInteger();
        AtomicInteger consumed = new AtomicInteger();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        Pump pump = new Pump(pool) {
            @Override
            protected void pump() {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                consumed.set(produced.get());
                inside.decrementAndGet();
            }
        };
        Thread[] producers = new Thread[4];
        for (int t = 0; t < producers.length; t++) {
            producers[t] = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    produced.incrementAndGet();
                    pump.wake();
                }
            });
            producers[t].start();
        }
        for (Thread t : producers) {
            t.join();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (consumed.get() != produced.get() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(produced.get(), consumed.get(), "the last wake was not lost");
        assertEquals(0, overlaps.get());
    }

    @Test
    void aClosedPumpIgnoresWakesAndARefusedRunHappensOnTheWakingThread() throws Exception {
        ExecutorService stopped = Executors.newSingleThreadExecutor();
        stopped.shutdown();
        AtomicInteger runs = new AtomicInteger();
        Pump pump = new Pump(stopped) {
            @Override
            protected void pump() {
                runs.incrementAndGet();
            }
        };
        pump.wake();
        assertEquals(1, runs.get(), "an executor that shut down does not lose the run");
        assertTrue(pump.close());
        assertFalse(pump.close());
        pump.wake();
        assertEquals(1, runs.get());
    }
}
