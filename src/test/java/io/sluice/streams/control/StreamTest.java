package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.Generation;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The stream's log, resumption, ending and grace rules, without a container. */
class StreamTest {

    private final ExecutorService work = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private final AtomicInteger saves = new AtomicInteger();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final FlushTicker ticker = new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(1));

    @AfterEach
    void stop() {
        work.shutdownNow();
        timers.shutdownNow();
    }

    private LocalStream stream(int flushChars, long graceMillis) {
        LocalStream stream = new LocalStream("s-1", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(graceMillis), timers, ticker, new Stream.Settings(10_000, flushChars, 1 << 20),
                (s, end) -> {
                    saves.incrementAndGet();
                    return CompletableFuture.supplyAsync(() -> "msg-1", work);
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-1").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        return stream;
    }

    @Test
    void theRawRecordGoesToTheSaveFrozenThereAndIsDroppedOnceSaved() throws Exception {
        List<byte[]> saved = new ArrayList<>();
        LocalStream stream = new LocalStream("s-r", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 0, 30_000, 4096), (s, end) -> {
                    saved.add(s.rawResponse());
                    return CompletableFuture.supplyAsync(() -> "msg-r", work);
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-r").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        RawCapture raw = stream.rawCapture();
        raw.sent(System.nanoTime());
        raw.chunk("{\"n\":1}", true, System.nanoTime());
        stream.onDelta("partial", null);
        stream.stop(Reason.USER, MessageStatus.STOPPED); // a stopped answer keeps its record too
        raw.chunk("{\"n\":2}", true, System.nanoTime()); // the parser's thread, racing the stop: too late
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        JsonObject record = Json.createReader(new StringReader(RawCapture.decode(saved.get(0)))).readObject();
        assertEquals(1, record.getJsonArray("chunks").size());
        assertEquals(1, record.getJsonArray("chunks").getJsonObject(0).getInt("n"));
        assertNull(stream.rawCapture(), "a retained stream holds no raw record");
        assertNull(stream.rawResponse());
    }

    @Test
    void withoutABoundAStreamKeepsNoRawRecord() {
        LocalStream stream = stream(1, 60_000);
        assertNull(stream.rawCapture());
        assertNull(stream.rawResponse());
    }

    @Test
    void aGenerationPastItsDurationLimitIsCancelledAndEndsWithStreamTimeoutItsTextKeptAsPartial() throws Exception {
        List<Stream.End> ends = new ArrayList<>();
        LocalStream stream = new LocalStream("s-2", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 300), (s, end) -> {
                    ends.add(end);
                    return CompletableFuture.completedFuture("msg-2");
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-2").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        stream.onDelta("a trickle", null); // an upstream that never stops sending a little: the idle timer never fires
        assertTrue(terminated.await(5, TimeUnit.SECONDS), "the limit ended the stream");
        assertTrue(stream.durationMs() >= 300);
        assertTrue(cancelled.get(), "the upstream request was cancelled");
        Stream.End end = ends.get(0);
        assertEquals(StreamStatus.ERROR, end.status());
        assertEquals(MessageStatus.PARTIAL, end.messageStatus());
        assertEquals(FailureCode.STREAM_TIMEOUT, end.failure().code());
        assertEquals("STREAM_TIMEOUT", end.reason());
        List<StreamEvent> all = events(stream, 0, 100);
        StreamEvent last = all.get(all.size() - 1);
        assertEquals("error", last.name());
        assertEquals("STREAM_TIMEOUT", data(last).getString("code"));
        assertEquals("a trickle", deltas(all));
        stream.onDelta(" more", null); // late output is ignored
        stream.onComplete("stop", null, null);
        assertEquals(1, ends.size());
    }

    @Test
    void aStreamThatEndsInTimeCancelsItsDurationTimer() throws Exception {
        LocalStream stream = new LocalStream("s-3", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 200), (s, end) -> {
                    saves.incrementAndGet();
                    return CompletableFuture.completedFuture("msg-3");
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-3").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        stream.onDelta("done in time", null);
        stream.onComplete("stop", null, null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        Thread.sleep(400);
        assertEquals(1, saves.get());
        assertEquals(StreamStatus.COMPLETED, stream.end().status());
        assertFalse(cancelled.get());
    }

    @Test
    void aFailedSaveIsTriedAgainAndTheTerminalEventWaitsForIt() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        LocalStream stream = new LocalStream("s-4", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 0, 10_000), (s, end) ->
                tries.incrementAndGet() < 3 ? CompletableFuture.failedFuture(new IllegalStateException("database down"))
                        : CompletableFuture.completedFuture("msg-4"));
        stream.start(Json.createObjectBuilder().add("streamId", "s-4").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        stream.onDelta("kept", null);
        stream.onComplete("stop", null, null);
        Thread.sleep(200);
        assertFalse(stream.terminated(), "no terminal event before the save");
        assertEquals("message", last(events(stream, 0, 100)).name());
        assertTrue(terminated.await(10, TimeUnit.SECONDS), "the third try saved it");
        assertEquals(3, tries.get());
        assertEquals("msg-4", stream.messageId());
        StreamEvent done = last(events(stream, 0, 100));
        assertEquals("done", done.name());
        assertEquals("completed", data(done).getString("status"));
    }

    @Test
    void aSaveThatKeepsFailingEndsWithPersistenceFailedNeverCompletedAndIsHandedOnForLater() throws Exception {
        List<Stream.End> handedOn = new ArrayList<>();
        LocalStream stream = new LocalStream("s-5", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 0, 1_200), new Stream.Saver() {
                    @Override
                    public java.util.concurrent.CompletionStage<String> save(Stream s, Stream.End end) {
                        saves.incrementAndGet();
                        return CompletableFuture.failedFuture(new IllegalStateException("database down"));
                    }

                    @Override
                    public void failed(Stream s, Stream.End end) {
                        handedOn.add(end);
                    }
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-5").build(), () -> () -> cancelled.set(true),
                terminated::countDown);
        stream.onDelta("the whole answer", null);
        stream.onComplete("stop", null, null);
        assertTrue(terminated.await(10, TimeUnit.SECONDS));
        assertTrue(saves.get() >= 2, "tried more than once: " + saves.get());
        StreamEvent last = last(events(stream, 0, 100));
        assertEquals("error", last.name());
        assertEquals("PERSISTENCE_FAILED", data(last).getString("code"));
        assertEquals(StreamStatus.ERROR, stream.status());
        assertEquals("the whole answer", stream.content(), "the text stays readable");
        assertEquals(1, handedOn.size());
        assertEquals(StreamStatus.COMPLETED, handedOn.get(0).status(), "saved later as what it was");
        assertNull(stream.messageId());
    }

    /** The stream's events after {@code after}, rendered for SSE. */
    static List<StreamEvent> events(Stream stream, long after, int max) {
        List<StreamEvent> events = new ArrayList<>();
        for (EventLog.Logged<StreamEntry> logged : stream.log().after(after, max)) {
            events.add(stream.sse(logged));
        }
        return events;
    }

    private static StreamEvent last(List<StreamEvent> events) {
        return events.get(events.size() - 1);
    }

    private static String deltas(List<StreamEvent> events) {
        StringBuilder text = new StringBuilder();
        for (StreamEvent e : events) {
            if (e.name().equals("message")) {
                text.append(data(e).getString("delta", ""));
            }
        }
        return text.toString();
    }

    private static JsonObject data(StreamEvent e) {
        return Json.createReader(new StringReader(e.data())).readObject();
    }

    @Test
    void eventIdsAreContiguousAndReadableFromAnyPosition() throws Exception {
        LocalStream stream = stream(1, 60_000);
        for (int i = 0; i < 50; i++) {
            stream.onDelta("w" + i + " ", null);
        }
        stream.onComplete("stop", null, null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        List<StreamEvent> all = events(stream, 0, 1000);
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i).id());
        }
        assertEquals("stream", all.get(0).name());
        assertEquals("done", all.get(all.size() - 1).name());
        assertEquals("msg-1", data(all.get(all.size() - 1)).getString("messageId"));
        assertEquals(stream.content(), deltas(all));
        for (long after = 0; after <= all.size(); after++) {
            List<StreamEvent> rest = events(stream, after, 7);
            if (after < all.size()) {
                assertEquals(after + 1, rest.get(0).id(), "first event after " + after);
            } else {
                assertTrue(rest.isEmpty());
            }
        }
    }

    @Test
    void resumingAtEveryOffsetGivesExactlyTheRestOfTheContent() throws Exception {
        LocalStream stream = stream(8, 60_000); // coalesced deltas: offsets fall inside them
        String[] pieces = {"Hé", "llo", " wör", "ld 🙂", " and", " more", " text", " here."};
        for (String piece : pieces) {
            stream.onDelta(piece, null);
        }
        stream.onComplete("stop", null, null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        String content = stream.content();
        assertEquals(String.join("", pieces), content);
        for (int offset = 0; offset <= content.length(); offset++) {
            Stream.Resumption from = stream.resumeAt(offset);
            List<StreamEvent> events = new ArrayList<>();
            if (from.first() != null) {
                events.add(SseEvents.render(from.first().id(), from.first().entry()));
            }
            events.addAll(events(stream, from.afterId(), 1000));
            assertEquals(content.substring(offset), deltas(events), "offset " + offset);
            assertEquals("done", events.get(events.size() - 1).name());
        }
        assertThrows(IllegalArgumentException.class, () -> stream.resumeAt(content.length() + 1));
        assertThrows(IllegalArgumentException.class, () -> stream.resumeAt(-1));
    }

    @Test
    void aStreamEndsExactlyOnceWhateverComesAfter() throws Exception {
        LocalStream stream = stream(1, 60_000);
        stream.onDelta("partial text", null);
        assertTrue(stream.stop("user", MessageStatus.STOPPED));
        assertFalse(stream.stop("user", MessageStatus.STOPPED));
        stream.onComplete("stop", null, null);
        stream.onFailure(new UpstreamException(FailureCode.UPSTREAM_ERROR, "late"));
        stream.onDelta("late text", null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        assertTrue(cancelled.get(), "stopping cancels the upstream request");
        assertEquals(1, saves.get());
        assertEquals(StreamStatus.STOPPED, stream.status());
        assertEquals("partial text", stream.content());
        List<StreamEvent> all = events(stream, 0, 100);
        StreamEvent last = all.get(all.size() - 1);
        assertEquals("stopped", last.name());
        assertEquals("user", data(last).getString("reason"));
        assertEquals(1, all.stream().filter(e -> e.name().equals("stopped") || e.name().equals("done")).count());
    }

    @Test
    void withNoFollowerPastTheResumeGraceTheGenerationIsCancelledAndSavedAsPartial() throws Exception {
        LocalStream stream = stream(1, 200);
        stream.onDelta("so far", null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        assertTrue(cancelled.get());
        assertEquals(StreamStatus.STOPPED, stream.status());
        assertEquals("client_disconnected", stream.end().reason());
        assertEquals(MessageStatus.PARTIAL, stream.end().messageStatus());
    }

    @Test
    void anAttachedFollowerKeepsTheStreamAliveAndIsWokenByNews() throws Exception {
        LocalStream stream = stream(1, 200);
        AtomicInteger wakes = new AtomicInteger();
        Follower follower = wakes::incrementAndGet;
        stream.follow(follower);
        Thread.sleep(500);
        assertFalse(stream.status().ended(), "followed: no grace expiry");
        int before = wakes.get();
        stream.onDelta("news", null);
        assertTrue(wakes.get() > before);
        stream.unfollow(follower);
        assertTrue(terminated.await(5, TimeUnit.SECONDS), "unfollowed: ends after the grace");
        assertEquals("client_disconnected", stream.end().reason());
    }

    @Test
    void anUnloadAbortIsCancelledByAReattachWithinTheGrace() throws Exception {
        LocalStream stream = stream(1, 60_000);
        stream.abortOnUnload(300);
        Thread.sleep(100);
        stream.follow(() -> { });
        Thread.sleep(500);
        assertFalse(stream.status().ended(), "a reload re-attached: the stream goes on");
        stream.onComplete("stop", null, null);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        assertEquals(StreamStatus.COMPLETED, stream.status());
    }

    @Test
    void anUnloadAbortWithoutReattachStopsTheStream() throws Exception {
        LocalStream stream = stream(1, 60_000);
        stream.follow(() -> { }); // the closing tab's own connection, not yet noticed gone
        stream.abortOnUnload(200);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        assertEquals("unload", stream.end().reason());
        assertEquals(MessageStatus.STOPPED, stream.end().messageStatus());
        assertTrue(cancelled.get());
    }

    @Test
    void aFailureEndsInAnErrorEventWithItsCode() throws Exception {
        LocalStream stream = stream(1, 60_000);
        stream.onDelta("half", null);
        stream.onFailure(new UpstreamException(FailureCode.RATE_LIMITED, "slow down", 429, 7L));
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        List<StreamEvent> all = events(stream, 0, 100);
        JsonObject error = data(all.get(all.size() - 1));
        assertEquals("RATE_LIMITED", error.getString("code"));
        assertEquals(7, error.getJsonObject("details").getInt("retryAfterSeconds"));
        assertEquals("half", deltas(all));
        assertNull(stream.end().finishReason());
    }
}
