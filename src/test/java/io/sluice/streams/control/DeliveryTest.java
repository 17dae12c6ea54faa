package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.ProblemException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adaptive delivery (API.md section 13) and the liveness signal on one {@link SseConnection}, without a container: the
 * parameters' bounds, the grouping of deltas under the stream's ids, and the ping of a silent generating stream.
 */
class DeliveryTest {

    private final ExecutorService writers = Executors.newSingleThreadExecutor();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private LocalStream stream;

    @BeforeEach
    void start() {
        // flushChars 1: every delta is logged at once, so the connection alone decides the grouping
        stream = new LocalStream("s-1", StreamType.CHAT, null, "anon:a", null, "m", new MemoryEventLog<>(60_000),
                timers,
                new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(5)), new Stream.Settings(50, 1, 1 << 20),
                (s, end) -> CompletableFuture.completedFuture(null));
        stream.start(Json.createObjectBuilder().build(), () -> () -> { }, () -> { });
    }

    @AfterEach
    void stop() {
        writers.shutdownNow();
        timers.shutdownNow();
    }

    /** Collects what a connection writes. */
    private static final class Sink implements EventSink {
        final List<StreamEvent> sent = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        @Override
        public boolean send(StreamEvent event) {
            sent.add(event);
            return true;
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            closed = true;
        }

        List<StreamEvent> named(String name) {
            return sent.stream().filter(e -> e.name().equals(name)).toList();
        }
    }

    private SseConnection follow(Sink sink, long after, Delivery delivery) {
        SseConnection connection = new SseConnection(stream, Stream.Resumption.after(after), "tab", SseEvents.EDGE,
                sink, writers, delivery, timers);
        connection.start();
        return connection;
    }

    private static void await(Sink sink, Predicate<Sink> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (!condition.test(sink) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(condition.test(sink), "in time: " + sink.sent);
    }

    private static JsonObject data(StreamEvent event) {
        return Json.createReader(new StringReader(event.data())).readObject();
    }

    private static String text(List<StreamEvent> messages, String field) {
        StringBuilder text = new StringBuilder();
        for (StreamEvent m : messages) {
            JsonObject d = data(m);
            if (d.containsKey(field)) {
                text.append(d.getString(field));
            }
        }
        return text.toString();
    }

    @Test
    void theParametersAreCheckedAndDefaultToTheStreamsOwnRate() {
        assertEquals(Delivery.DEFAULT, Delivery.of(null, null, 50));
        assertEquals(new Delivery(500, 1024), Delivery.of("500", "1024", 50));
        assertEquals(new Delivery(50, 512), Delivery.of(null, "512", 50), "minChunk alone: held at most the node's rate");
        assertEquals(new Delivery(200, 0), Delivery.of("200", null, 50));
        for (String[] bad : new String[][]{{"49", null}, {"1001", null}, {"fast", null}, {null, "-1"}, {null, "4097"},
                {"", null}, {"100", "1e3"}}) {
            ProblemException e = assertThrows(ProblemException.class, () -> Delivery.of(bad[0], bad[1], 50));
            assertEquals(400, e.status());
        }
        assertTrue(!Delivery.DEFAULT.groups() && new Delivery(50, 0).groups());
    }

    @Test
    void deltasAreGroupedUpToMinChunkUnderTheLastDeltasIdAndResumeExactly() throws Exception {
        Sink slow = new Sink();
        follow(slow, 0, new Delivery(1000, 10));
        Sink everyDelta = new Sink();
        follow(everyDelta, 0, Delivery.DEFAULT);
        stream.onDelta("abc", null);
        stream.onDelta("def", null);
        stream.onDelta("ghij", null); // 10: the group is full
        await(slow, s -> s.named("message").size() == 1);
        await(everyDelta, s -> s.named("message").size() == 3);
        StreamEvent grouped = slow.named("message").get(0);
        assertEquals("abcdefghij", data(grouped).getString("delta"));
        assertEquals(everyDelta.named("message").get(2).id(), grouped.id(), "the id of the last delta in it");

        long start = System.nanoTime();
        stream.onDelta("k", null);
        await(everyDelta, s -> s.named("message").size() == 4);
        Thread.sleep(300);
        assertEquals(1, slow.named("message").size(), "held: not full, not due");
        await(slow, s -> s.named("message").size() == 2);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(waited >= 900 && waited < 2500, "sent flushMs after its first delta: " + waited + " ms");
        assertEquals("k", data(slow.named("message").get(1)).getString("delta"));

        stream.onDelta(null, "thinking"); // another kind: the held group goes first
        stream.onDelta("lm", null);
        stream.onComplete("stop", null, null);
        await(slow, s -> !s.named("done").isEmpty());
        await(everyDelta, s -> !s.named("done").isEmpty());
        List<StreamEvent> messages = slow.named("message");
        assertEquals("abcdefghijklm", text(messages, "delta"));
        assertEquals("thinking", text(messages, "reasoning"));
        assertTrue(data(messages.get(messages.size() - 1)).getBoolean("isFinal"), "the last message is final");
        assertEquals(everyDelta.sent.get(everyDelta.sent.size() - 1).id(), slow.sent.get(slow.sent.size() - 1).id());
        long previous = 0;
        for (StreamEvent e : slow.sent) {
            assertTrue(e.id() > previous, "ids strictly increase: " + slow.sent);
            previous = e.id();
        }
        assertTrue(slow.sent.size() < everyDelta.sent.size(), "fewer events: " + slow.sent.size() + " against "
                + everyDelta.sent.size());

        // a client that got the first group resumes at its id, at the stream's own rate, with nothing lost or repeated
        Sink resumed = new Sink();
        follow(resumed, grouped.id(), Delivery.DEFAULT);
        await(resumed, s -> !s.named("done").isEmpty());
        assertEquals("klm", text(resumed.named("message"), "delta"));
    }

    @Test
    void aSilentConnectionOfAGeneratingStreamIsPingedAndAnEndedOneIsNot() throws Exception {
        Sink sink = new Sink();
        SseConnection connection = follow(sink, 0, Delivery.DEFAULT);
        await(sink, s -> s.named("stream").size() == 1);
        long now = System.nanoTime();
        long second = TimeUnit.SECONDS.toNanos(1);
        connection.keepAlive(now, second);
        Thread.sleep(100);
        assertTrue(sink.named("ping").isEmpty(), "it has just written: " + sink.sent);
        connection.keepAlive(now + 2 * second, second);
        await(sink, s -> s.named("ping").size() == 1);
        assertEquals(0, sink.named("ping").get(0).id(), "a ping has no id");

        Sink idle = new Sink();
        stream.onComplete("stop", null, null);
        await(sink, s -> !s.named("done").isEmpty());
        SseConnection late = new SseConnection(stream, Stream.Resumption.after(stream.lastEventId()), "tab2",
                SseEvents.EDGE, idle, writers); // not started: it writes nothing
        late.keepAlive(System.nanoTime() + 10 * second, second);
        Thread.sleep(100);
        late.start();
        Thread.sleep(100);
        assertTrue(idle.named("ping").isEmpty(), "no liveness ping once the generation has ended: " + idle.sent);
    }
}
