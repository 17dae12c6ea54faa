package io.sluice.streams.control;

import io.sluice.operations.control.StreamMetrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.boundary.ApiEventSink;
import jakarta.json.Json;
import jakarta.ws.rs.core.GenericType;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseBroadcaster;
import jakarta.ws.rs.sse.SseEventSink;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connection guard's rules without a container: duplicates, the per-owner cap, heartbeats, stalls. */
class ConnectionGuardTest {

    private final ExecutorService work = Executors.newFixedThreadPool(4);
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private ConnectionGuard guard;
    private LocalStream stream;

    @BeforeEach
    void start() {
        guard = new ConnectionGuard();
        guard.config = new SluiceConfig() {
            @Override
            public Duration heartbeat() {
                return Duration.ofMillis(200);
            }

            @Override
            public int maxConnectionsPerOwner() {
                return 3;
            }

            @Override
            public int livenessMillis() {
                return 100;
            }
        };
        guard.executors = new ManagedExecutors() {
            @Override
            public ExecutorService work() {
                return work;
            }

            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }
        };
        guard.metrics = new StreamMetrics();
        guard.transport = new LocalTransport(); // one node: no Redis
        guard.redis = new Redis();
        guard.start();
        stream = new LocalStream("s-1", StreamType.CHAT, null, "anon:a", null, "m", new MemoryEventLog<>(60_000),
                timers,
                new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(5)), new Stream.Settings(50, 1, 1 << 20),
                (s, end) -> CompletableFuture.completedFuture(null));
        stream.start(Json.createObjectBuilder().build(), () -> () -> { }, () -> { });
    }

    @AfterEach
    void stop() {
        guard.stop();
        work.shutdownNow();
        timers.shutdownNow();
    }

    private SseConnection connection(String clientId, FakeSink sink) {
        return connection(clientId, new ApiEventSink(sink, new FakeSse(), null));
    }

    private SseConnection connection(String clientId, EventSink sink) {
        return new SseConnection(stream, Stream.Resumption.after(0), clientId, SseEvents.EDGE, sink, work);
    }

    @Test
    void aConnectionWritesOnlyOnceItsSinkIsOpen() throws Exception {
        FakeSink sink = new FakeSink();
        LateSink late = new LateSink(new ApiEventSink(sink, new FakeSse(), null));
        guard.open("anon:a", connection("tab-1", late));
        Thread.sleep(500); // two heartbeats and the stream's first event are due meanwhile
        assertTrue(sink.sent.isEmpty(), "nothing is written before the sink opens: " + sink.sent);
        assertEquals(1, stream.followerCount(), "it follows its stream meanwhile");
        late.open();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (sink.sent.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertFalse(sink.sent.isEmpty(), "once open, it writes what its stream has");
        assertFalse(sink.isClosed());
    }

    @Test
    void aConnectionReplacedBeforeItsSinkOpenedNeverWritesToIt() throws Exception {
        FakeSink first = new FakeSink();
        LateSink late = new LateSink(new ApiEventSink(first, new FakeSse(), null));
        SseConnection replaced = connection("tab-1", late);
        guard.open("anon:a", replaced);
        guard.open("anon:a", connection("tab-1", new FakeSink()));
        assertTrue(replaced.isClosed(), "the replaced connection is closed at once");
        assertEquals(1, guard.connectionCount("anon:a"));
        assertTrue(first.closed.await(2, TimeUnit.SECONDS), "its sink is told to close (the /api sink waits for the "
                + "end of its dispatch: ApiEventSinkTest)");
        late.open();
        Thread.sleep(100);
        assertTrue(first.sent.isEmpty(), "nothing was written to it: " + first.sent);
    }

    @Test
    void aSecondConnectionWithTheSameClientIdReplacesTheFirst() throws Exception {
        FakeSink first = new FakeSink();
        FakeSink second = new FakeSink();
        guard.open("anon:a", connection("tab-1", first));
        guard.open("anon:a", connection("tab-1", second));
        assertTrue(first.closed.await(2, TimeUnit.SECONDS), "the first connection is closed");
        assertEquals(1, guard.connectionCount());
        assertEquals(1, guard.connectionCount("anon:a"));
        assertFalse(second.isClosed());
        assertEquals(1, stream.followerCount());
    }

    @Test
    void theOwnerCapAnswers429AndCountsOnlyLiveConnections() throws Exception {
        for (int i = 0; i < 3; i++) {
            guard.open("anon:a", connection("tab-" + i, new FakeSink()));
        }
        ProblemException refused = assertThrows(ProblemException.class,
                () -> guard.open("anon:a", connection("tab-9", new FakeSink())));
        assertEquals(429, refused.status());
        guard.open("anon:a", connection("tab-0", new FakeSink())); // a replacement is not one more
        guard.open("anon:b", connection("tab-0", new FakeSink())); // another owner has a cap of its own
        assertEquals(3, guard.connectionCount("anon:a"));
        assertEquals(4, guard.connectionCount());
    }

    @Test
    void heartbeatsArePingsWithoutIdsAndAFailedWriteForgetsTheConnection() throws Exception {
        FakeSink sink = new FakeSink();
        guard.open("anon:a", connection("tab-1", sink));
        Thread.sleep(700);
        List<OutboundSseEvent> pings = sink.sent.stream().filter(e -> e.getName().equals("ping")).toList();
        assertTrue(pings.size() >= 2, "pings every heartbeat: " + pings.size());
        assertTrue(pings.stream().allMatch(e -> e.getId() == null));
        sink.failWrites = true;
        assertTrue(sink.closed.await(2, TimeUnit.SECONDS));
        Thread.sleep(100);
        assertEquals(0, guard.connectionCount());
        assertEquals(0, stream.followerCount());
        assertFalse(stream.status().ended(), "a gone client is not a stop");
    }

    @Test
    void whileTheStreamGeneratesASilentConnectionIsPingedWithinTheLivenessPeriod() throws Exception {
        FakeSink sink = new FakeSink();
        guard.open("anon:a", connection("tab-1", sink));
        Thread.sleep(1000); // five heartbeats (200 ms) and about ten liveness periods (100 ms, ticked every 25 ms)
        long pings = sink.sent.stream().filter(e -> e.getName().equals("ping")).count();
        assertTrue(pings >= 6, "a ping after each 100 ms of silence, not only each heartbeat: " + pings);
    }

    @Test
    void aStalledWriterIsForgottenWhileOthersGoOn() throws Exception {
        FakeSink stalled = new FakeSink();
        stalled.block = new CountDownLatch(1);
        FakeSink healthy = new FakeSink();
        guard.open("anon:a", connection("stalled", stalled));
        guard.open("anon:a", connection("healthy", healthy));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (guard.connectionCount() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, guard.connectionCount(), "reaped after two heartbeat periods");
        assertEquals(1, stream.followerCount());
        int before = healthy.sent.size();
        stream.onDelta("still flowing", null);
        Thread.sleep(200);
        assertTrue(healthy.sent.size() > before, "the other follower still gets events");
        stalled.block.countDown();
    }

    /** A connection that closes itself when it starts, or at its first heartbeat: both are forgotten at once. */
    private static final class ShortLived implements GuardedConnection {
        private final String clientId;
        private final boolean closeOnStart;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile Runnable onClose;

        private final long requestedNanos;

        ShortLived(String clientId, boolean closeOnStart) {
            this(clientId, closeOnStart, Long.MIN_VALUE);
        }

        ShortLived(String clientId, boolean closeOnStart, long requestedNanos) {
            this.clientId = clientId;
            this.closeOnStart = closeOnStart;
            this.requestedNanos = requestedNanos;
        }

        @Override
        public long requestedNanos() {
            return requestedNanos;
        }

        @Override
        public String target() {
            return "t";
        }

        @Override
        public String clientId() {
            return clientId;
        }

        @Override
        public void onClose(Runnable onClose) {
            this.onClose = onClose;
        }

        @Override
        public void start() {
            if (closeOnStart) {
                disconnect();
            }
        }

        @Override
        public void ping() {
            disconnect(); // a heartbeat whose write failed
        }

        @Override
        public long stalledNanos(long now) {
            return 0;
        }

        @Override
        public void abandon() {
            disconnect();
        }

        @Override
        public void disconnect() {
            if (closed.compareAndSet(false, true)) {
                onClose.run();
            }
        }
    }

    @Test
    void ofTwoSessionsOfOneTabTheOneAskedForLaterWinsWhateverOrderTheyAreRegisteredIn() {
        ShortLived older = new ShortLived("same-tab", false, 100);
        ShortLived newer = new ShortLived("same-tab", false, 200);
        guard.open("anon:w", newer); // its onOpen ran first
        guard.open("anon:w", older);
        assertTrue(older.closed.get(), "the session asked for first is closed");
        assertFalse(newer.closed.get(), "the later one stays");
        assertEquals(1, guard.connectionCount("anon:w"));
        ShortLived latest = new ShortLived("same-tab", false, 300);
        guard.open("anon:w", latest);
        assertTrue(newer.closed.get(), "in order, a later session replaces the earlier as before");
        assertEquals(1, guard.connectionCount("anon:w"));
        latest.disconnect();
        assertEquals(0, guard.connectionCount("anon:w"));
    }

    @Test
    void aConnectionThatClosesAtAnyMomentAfterOpeningIsForgottenWithItsCount() throws Exception {
        for (int i = 0; i < 50; i++) {
            guard.open("anon:a", new ShortLived("starts-closed-" + i, true));
        }
        assertEquals(0, guard.connectionCount());
        assertEquals(0, guard.connectionCount("anon:a"));
        // heartbeats racing with openings: a ping may land between publishing and starting
        Thread beats = new Thread(() -> {
            for (int i = 0; i < 2_000; i++) {
                guard.beat();
            }
        });
        beats.start();
        for (int i = 0; i < 2_000; i++) {
            guard.open("anon:b", new ShortLived("tab-" + (i % 2), false));
        }
        beats.join();
        guard.beat();
        assertEquals(0, guard.connectionCount(), "no leaked connection");
        assertEquals(0, guard.connectionCount("anon:b"), "no leaked per-owner count");
    }

    @Test
    void connectionsOpenedAtOnceAtTheCapNeverPassItAndATabReplacedAtTheCapKeepsItsPlace() throws Exception {
        ExecutorService many = Executors.newFixedThreadPool(16);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<java.util.concurrent.Future<Boolean>> tries = new java.util.ArrayList<>();
            for (int i = 0; i < 32; i++) {
                String tab = "tab-" + i;
                tries.add(many.submit(() -> {
                    go.await();
                    try {
                        guard.open("anon:c", new ShortLived(tab, false));
                        return true;
                    } catch (ProblemException e) {
                        assertEquals(429, e.status());
                        return false;
                    }
                }));
            }
            go.countDown();
            int admitted = 0;
            for (var t : tries) {
                admitted += t.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(3, admitted, "the cap of the tests' configuration, 3");
            assertEquals(3, guard.connectionCount("anon:c"));
            assertEquals(3, guard.connectionCount());
            // at the cap, tabs that reconnect (replacing their own connection) all pass, and the count stays
            int first = 0;
            while (!tries.get(first).get()) {
                first++;
            }
            String tab = "tab-" + first;
            CountDownLatch again = new CountDownLatch(1);
            List<java.util.concurrent.Future<?>> reopened = new java.util.ArrayList<>();
            for (int i = 0; i < 16; i++) {
                reopened.add(many.submit(() -> {
                    again.await();
                    guard.open("anon:c", new ShortLived(tab, false));
                    return null;
                }));
            }
            again.countDown();
            for (var r : reopened) {
                r.get(10, TimeUnit.SECONDS);
            }
            assertEquals(3, guard.connectionCount("anon:c"));
            assertEquals(3, guard.connectionCount());
        } finally {
            many.shutdownNow();
        }
    }

    /** A sink that opens when the test says, as the {@code /api} sink opens at the end of its request's dispatch. */
    static final class LateSink implements EventSink {
        private final EventSink sink;
        private volatile Runnable start;

        LateSink(EventSink sink) {
            this.sink = sink;
        }

        void open() {
            start.run();
        }

        @Override
        public void whenOpen(Runnable start) {
            this.start = start;
        }

        @Override
        public boolean send(StreamEvent event) {
            return sink.send(event);
        }

        @Override
        public boolean isClosed() {
            return sink.isClosed();
        }

        @Override
        public void close() {
            sink.close();
        }
    }

    /** A sink that records events, can fail its writes, or block them until released. */
    static final class FakeSink implements SseEventSink {
        final List<OutboundSseEvent> sent = new CopyOnWriteArrayList<>();
        final CountDownLatch closed = new CountDownLatch(1);
        volatile boolean failWrites;
        volatile CountDownLatch block;

        @Override
        public boolean isClosed() {
            return closed.getCount() == 0;
        }

        @Override
        public CompletionStage<?> send(OutboundSseEvent event) {
            CountDownLatch b = block;
            if (b != null) {
                try {
                    b.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failWrites) {
                return CompletableFuture.failedFuture(new java.io.IOException("broken pipe"));
            }
            sent.add(event);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
            closed.countDown();
        }
    }

    /** Builds plain outbound events. */
    static final class FakeSse implements Sse {
        @Override
        public OutboundSseEvent.Builder newEventBuilder() {
            return new Builder();
        }

        @Override
        public SseBroadcaster newBroadcaster() {
            throw new UnsupportedOperationException();
        }
    }

    private record Event(String getId, String getName, Object getData) implements OutboundSseEvent {
        public String getComment() { return null; }
        public long getReconnectDelay() { return -1; }
        public boolean isReconnectDelaySet() { return false; }
        public Class<?> getType() { return String.class; }
        public Type getGenericType() { return String.class; }
        public MediaType getMediaType() { return MediaType.TEXT_PLAIN_TYPE; }
    }

    private static final class Builder implements OutboundSseEvent.Builder {
        private String id;
        private String name;
        private Object data;

        public OutboundSseEvent.Builder id(String id) { this.id = id; return this; }
        public OutboundSseEvent.Builder name(String name) { this.name = name; return this; }
        public OutboundSseEvent.Builder reconnectDelay(long milliseconds) { return this; }
        public OutboundSseEvent.Builder mediaType(MediaType mediaType) { return this; }
        public OutboundSseEvent.Builder comment(String comment) { return this; }
        public OutboundSseEvent.Builder data(Class type, Object data) { this.data = data; return this; }
        public OutboundSseEvent.Builder data(GenericType type, Object data) { this.data = data; return this; }
        public OutboundSseEvent.Builder data(Object data) { this.data = data; return this; }
        public OutboundSseEvent build() { return new Event(id, name, data); }
    }
}
