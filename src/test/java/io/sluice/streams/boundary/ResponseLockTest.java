package io.sluice.streams.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.streams.boundary.ApiEventSink.ResponseLock;
import jakarta.servlet.AsyncEvent;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The rule between a sink's writes and the container's end of its response, without a container: the container's
 * {@code onError} waits for a write in progress, and once the response ended, no write or close reaches it.
 */
class ResponseLockTest {

    private final AtomicInteger closes = new AtomicInteger();
    private final ResponseLock lock = new ResponseLock(closes::incrementAndGet);

    @Test
    void writesRunUntilClosedAndTheCloseRunsOnce() {
        assertTrue(lock.write(() -> true));
        assertFalse(lock.write(() -> false), "the write's own result");
        lock.close();
        lock.close();
        assertEquals(1, closes.get());
        assertTrue(lock.isClosed());
        AtomicInteger ran = new AtomicInteger();
        assertFalse(lock.write(() -> ran.incrementAndGet() > 0), "no write after the close");
        assertEquals(0, ran.get());
    }

    @Test
    void aCloseAskedDuringAWriteRunsWhenThatWriteEnds() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread writer = new Thread(() -> lock.write(() -> {
            writing.countDown();
            await(release);
            return true;
        }));
        writer.start();
        assertTrue(writing.await(5, TimeUnit.SECONDS));
        lock.close(); // returns at once: the write is still inside the response
        assertTrue(lock.isClosed(), "no new write starts");
        assertEquals(0, closes.get(), "not closed under the write");
        release.countDown();
        writer.join(5000);
        assertFalse(writer.isAlive());
        assertEquals(1, closes.get(), "closed by the writer as it let go");
    }

    @Test
    void theContainersOnErrorWaitsForTheWriteInProgressThenNothingReachesTheResponse() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread writer = new Thread(() -> lock.write(() -> {
            writing.countDown();
            await(release);
            return false;
        }));
        writer.start();
        assertTrue(writing.await(5, TimeUnit.SECONDS));
        Thread container = new Thread(() -> lock.onError(new AsyncEvent(null, null, null)));
        container.start();
        while (container.getState() != Thread.State.TIMED_WAITING && container.isAlive()) {
            Thread.onSpinWait();
        }
        assertTrue(container.isAlive(), "onError waits for the write");
        assertFalse(lock.ended());
        release.countDown();
        container.join(5000);
        writer.join(5000);
        assertFalse(container.isAlive());
        assertTrue(lock.ended());
        AtomicInteger ran = new AtomicInteger();
        assertFalse(lock.write(() -> ran.incrementAndGet() > 0));
        lock.close();
        assertEquals(0, ran.get(), "no write after the container's end");
        assertEquals(0, closes.get(), "no close after the container's end");
    }

    @Test
    void afterTheContainersCompleteACloseDoesNothing() {
        lock.onComplete(new AsyncEvent(null, null, null));
        assertTrue(lock.isClosed());
        lock.close();
        assertEquals(0, closes.get());
        assertFalse(lock.write(() -> true));
    }

    @Test
    void aCloseFromInsideAWriteWaitsForThatWriteToEnd() {
        assertTrue(lock.write(() -> {
            lock.close();
            return closes.get() == 0;
        }), "not closed while the write is inside the response");
        assertEquals(1, closes.get());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
