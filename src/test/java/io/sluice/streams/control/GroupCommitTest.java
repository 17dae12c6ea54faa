package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.ManagedExecutors;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Group commit with a fake transaction manager that records what each transaction held. */
class GroupCommitTest {

    private final ExecutorService database = Executors.newSingleThreadExecutor();
    /** The writes of each committed transaction. */
    private final List<List<String>> committed = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstBatchRunning = new CountDownLatch(1);
    private final CountDownLatch releaseFirstBatch = new CountDownLatch(1);
    private GroupCommit commits;
    private List<String> current;

    @BeforeEach
    void start() {
        commits = new GroupCommit();
        commits.executors = new ManagedExecutors() {
            @Override
            public ExecutorService database() {
                return database;
            }
        };
        commits.transactions = new Transactions() {
            @Override
            public <T> T inNew(Supplier<T> work) {
                current = new ArrayList<>();
                T result = work.get(); // a throw is a rollback: nothing is recorded
                committed.add(current);
                return result;
            }
        };
        commits.start();
    }

    @AfterEach
    void stop() {
        database.shutdownNow();
    }

    private CompletableFuture<String> write(String name, boolean fails) {
        return commits.submit(() -> {
            if (name.equals("first")) {
                firstBatchRunning.countDown();
                try {
                    releaseFirstBatch.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (fails) {
                throw new IllegalStateException(name + " fails");
            }
            current.add(name);
            return name + "-done";
        }).toCompletableFuture();
    }

    @Test
    void writesQueuedDuringACommitGoTogetherInOrderAndAFailureStaysAlone() throws Exception {
        CompletableFuture<String> first = write("first", false);
        assertTrue(firstBatchRunning.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<String>> queued = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            queued.add(write("w" + i, i == 2));
        }
        releaseFirstBatch.countDown();
        assertEquals("first-done", first.get(5, TimeUnit.SECONDS));
        for (int i = 0; i < 5; i++) {
            if (i == 2) {
                CompletableFuture<String> failed = queued.get(i);
                ExecutionException e = assertThrows(ExecutionException.class, () -> failed.get(5, TimeUnit.SECONDS));
                assertEquals("w2 fails", e.getCause().getMessage());
            } else {
                assertEquals("w" + i + "-done", queued.get(i).get(5, TimeUnit.SECONDS));
            }
        }
        // the batch of five failed as a whole, then each went alone: four commits of one
        assertEquals(List.of(List.of("first"), List.of("w0"), List.of("w1"), List.of("w3"), List.of("w4")),
                committed);
    }

    @Test
    void writesThatArriveWhileOneCommitsShareTheNextTransaction() throws Exception {
        CompletableFuture<String> first = write("first", false);
        assertTrue(firstBatchRunning.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<String>> queued = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            queued.add(write("w" + i, false));
        }
        releaseFirstBatch.countDown();
        first.get(5, TimeUnit.SECONDS);
        for (CompletableFuture<String> f : queued) {
            f.get(5, TimeUnit.SECONDS);
        }
        assertEquals(2, committed.size(), "one commit for the twenty that waited");
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            expected.add("w" + i);
        }
        assertEquals(expected, committed.get(1), "in the order submitted");
        assertTrue(commits.awaitIdle(1000));
    }

    @Test
    void pendingCountsTheWritesNotYetCommittedOrFailed() throws Exception {
        CompletableFuture<String> first = write("first", false);
        assertTrue(firstBatchRunning.await(5, TimeUnit.SECONDS));
        List<CompletableFuture<String>> queued = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            queued.add(write("w" + i, i == 1));
        }
        assertEquals(4, commits.pending(), "the batch being committed and the three queued");
        releaseFirstBatch.countDown();
        first.get(5, TimeUnit.SECONDS);
        for (CompletableFuture<String> f : queued) {
            f.handle((v, e) -> v).get(5, TimeUnit.SECONDS);
        }
        assertTrue(commits.awaitIdle(1000));
        assertEquals(0, commits.pending(), "committed or failed, none is pending");
    }
}
