package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.operations.control.StreamMetrics;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.GenerationListener;
import jakarta.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The hub's admission and its shutdown, with the pools, the records and the transactions faked. */
class StreamHubTest {

    private final ExecutorService work = Executors.newFixedThreadPool(2);
    private final ExecutorService database = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    /** "id:status:reason" per record end. */
    private final List<String> recordEnds = new CopyOnWriteArrayList<>();
    /** "id:messageStatus:reason" per saved result. */
    private final List<String> saved = new CopyOnWriteArrayList<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final Map<String, GenerationListener> listeners = new ConcurrentHashMap<>();
    private StreamHub hub;
    /** SLUICE_SAVE_QUEUE_MAX of the hub. */
    private volatile int saveQueueMax = 100;

    @BeforeEach
    void start() {
        ManagedExecutors executors = new ManagedExecutors() {
            @Override
            public ExecutorService work() {
                return work;
            }

            @Override
            public ExecutorService writers() {
                return work;
            }

            @Override
            public ExecutorService database() {
                return database;
            }

            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }
        };
        GroupCommit commits = new GroupCommit();
        commits.executors = executors;
        commits.transactions = new Transactions() {
            @Override
            public <T> T inNew(Supplier<T> work) {
                return work.get();
            }
        };
        commits.start();
        hub = new StreamHub();
        hub.executors = executors;
        hub.commits = commits;
        hub.metrics = new StreamMetrics();
        hub.records = new StreamRecords() {
            @Override
            public void started(StreamSpec spec, String owner, Instant createdAt) {
            }

            @Override
            public void ended(String id, StreamStatus status, String endReason, String messageId, String content,
                              Instant endedAt) {
                recordEnds.add(id + ":" + status.wire() + ":" + endReason);
            }
        };
        hub.config = new SluiceConfig() {
            @Override
            public int flushMillis() {
                return 50;
            }

            @Override
            public int flushChars() {
                return 512;
            }

            @Override
            public int maxGenerationChars() {
                return 1 << 20;
            }

            @Override
            public long resumeGraceMillis() {
                return 60_000;
            }

            @Override
            public long saveRetryMillis() {
                return 1000;
            }

            @Override
            public long streamMaxMillis() {
                return 600_000;
            }

            @Override
            public int maxRunningStreams() {
                return 4;
            }

            @Override
            public int maxStreamsPerOwner() {
                return 3;
            }

            @Override
            public int maxStreams() {
                return 100;
            }

            @Override
            public long retentionMillis() {
                return 60_000;
            }

            @Override
            public int saveQueueMax() {
                return saveQueueMax;
            }
        };
        hub.transport = new LocalTransport(); // one node: no Redis
        hub.init();
    }

    @AfterEach
    void stop() {
        work.shutdownNow();
        database.shutdownNow();
        timers.shutdownNow();
    }

    private Stream start(String owner, String id) {
        return hub.start(owner, new StreamSpec(id, StreamType.TOPIC_TITLE, null, null, "m", "default"), listener -> {
            listeners.put(id, listener);
            return () -> cancelled.add(id);
        }, Json.createObjectBuilder().build(), (stream, end) -> {
            saved.add(stream.id() + ":" + end.messageStatus().value() + ":" + end.reason());
            return "msg-" + stream.id();
        });
    }

    @Test
    void theNodeLimitAnswers503AndTheOwnerCap429BeforeAnythingStarts() {
        start("a", "s1");
        start("a", "s2");
        start("a", "s3");
        ProblemException owner = assertThrows(ProblemException.class, () -> start("a", "s4"));
        assertEquals(429, owner.status());
        start("b", "s5");
        ProblemException node = assertThrows(ProblemException.class, () -> start("c", "s6"));
        assertEquals(503, node.status());
        assertEquals(2L, node.retryAfterSeconds());
        assertEquals(4, hub.runningCount(), "refusals took no place");
    }

    @Test
    void whileTheSavesWaitingForTheDatabaseFillTheirQueueANewStreamGets503AndTheSavesStillHappen() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        hub.commits.submit(() -> { // the database hangs
            blocked.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertTrue(blocked.await(5, TimeUnit.SECONDS));
        saveQueueMax = 3;
        Stream first = start("a", "s1"); // its record: 2 waiting
        start("b", "s2"); // 3 waiting: the queue is full
        ProblemException refused = assertThrows(ProblemException.class, () -> start("c", "s3"));
        assertEquals(503, refused.status());
        assertEquals("overloaded", refused.type());
        assertEquals(5L, refused.retryAfterSeconds());
        assertEquals(2, hub.runningCount(), "the refusal took no place");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (listeners.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        listeners.get("s1").onComplete("stop", null, "m"); // an admitted stream's save joins the full queue
        release.countDown();
        while (!first.terminated() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(1, saved.size(), "saved, not dropped: " + saved);
        assertTrue(saved.get(0).startsWith("s1:completed:"), saved.get(0));
        assertTrue(hub.commits.awaitIdle(1000));
        start("c", "s3"); // room again
    }

    @Test
    void shutdownSavesEveryRunningStreamAsPartialEvenWhenThePoolsStoppedFirst() throws Exception {
        List<Stream> streams = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            streams.add(start("owner-" + i, "s" + i));
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (listeners.size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        listeners.forEach((id, listener) -> listener.onDelta("text of " + id, null));
        // undeploy may destroy the pools before the hub: its saves must still happen
        work.shutdown();
        database.shutdown();
        hub.shutdown();
        for (Stream stream : streams) {
            assertTrue(stream.terminated(), stream.id() + " ended");
            assertEquals(StreamStatus.STOPPED, stream.status());
            assertEquals("msg-" + stream.id(), stream.messageId());
            assertEquals("text of " + stream.id(), stream.content());
        }
        assertEquals(Set.of("s0:partial:server_shutdown", "s1:partial:server_shutdown", "s2:partial:server_shutdown"),
                Set.copyOf(saved));
        assertEquals(Set.of("s0:stopped:server_shutdown", "s1:stopped:server_shutdown", "s2:stopped:server_shutdown"),
                Set.copyOf(recordEnds));
        assertEquals(Set.of("s0", "s1", "s2"), cancelled, "the upstream requests were cancelled");
        ProblemException refused = assertThrows(ProblemException.class, () -> start("late", "s9"));
        assertEquals(503, refused.status());
    }
}
