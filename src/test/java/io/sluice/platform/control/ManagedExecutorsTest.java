package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pools' bounded queues: a request refused with 503 at three quarters, a task refused when full. */
class ManagedExecutorsTest {

    private final CountDownLatch release = new CountDownLatch(1);
    /** One thread, busy until {@link #release}, and a queue of 8. */
    private final ThreadPoolExecutor work = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(8));
    private final ThreadPoolExecutor writers = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(8));
    private final ManagedExecutors executors = new ManagedExecutors() {
        @Override
        public ExecutorService work() {
            return work;
        }

        @Override
        public ExecutorService writers() {
            return writers;
        }
    };

    @AfterEach
    void stop() {
        release.countDown();
        work.shutdownNow();
        writers.shutdownNow();
    }

    private void block(ThreadPoolExecutor pool) {
        pool.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    void aRequestIsRefusedWith503AndRetryAfterOnceAQueueIsThreeQuartersFull() {
        block(work);
        for (int i = 0; i < 5; i++) {
            work.execute(() -> { });
        }
        executors.ensureRoom(); // 5 of 8 queued
        work.execute(() -> { });
        ProblemException refused = assertThrows(ProblemException.class, executors::ensureRoom); // 6 of 8
        assertEquals(503, refused.status());
        assertEquals("overloaded", refused.type());
        assertEquals(2L, refused.retryAfterSeconds());
    }

    @Test
    void theWritersQueueCountsToo() {
        block(writers);
        for (int i = 0; i < 6; i++) {
            writers.execute(() -> { });
        }
        assertEquals(503, assertThrows(ProblemException.class, executors::ensureRoom).status());
    }

    @Test
    void aTaskPastTheBoundIsRefusedNotQueued() {
        block(work);
        for (int i = 0; i < 8; i++) {
            work.execute(() -> { });
        }
        assertThrows(RejectedExecutionException.class, () -> work.execute(() -> { }));
        assertEquals(8, work.getQueue().size());
    }

    @Test
    void threeQuartersOfAQueue() {
        assertEquals(false, ManagedExecutors.nearlyFull(queueHolding(2, 4)));
        assertEquals(true, ManagedExecutors.nearlyFull(queueHolding(3, 4)));
        assertEquals(false, ManagedExecutors.nearlyFull(queueHolding(1_000, Integer.MAX_VALUE)), "unbounded");
    }

    private static LinkedBlockingQueue<Runnable> queueHolding(int size, int capacity) {
        LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>(capacity);
        for (int i = 0; i < size; i++) {
            queue.add(() -> { });
        }
        return queue;
    }
}
