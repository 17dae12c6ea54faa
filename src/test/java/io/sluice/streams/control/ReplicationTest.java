package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 without Redis: a stream's log, copied entry by entry through {@link EntryCodec} text (what goes into a
 * Redis Stream) into a {@link Stream#mirror mirror}, reads the same on the mirror; the mirror's control goes to the
 * generating node.
 */
class ReplicationTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private final FlushTicker ticker = new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(1));

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** A mirror's remote that writes down what it is asked. */
    private record Recorder(List<String> calls) implements Stream.Remote {
        @Override
        public void stop(String reason, MessageStatus messageStatus) {
            calls.add("stop " + reason + " " + messageStatus);
        }

        @Override
        public void abortOnUnload(long graceMillis) {
            calls.add("unload " + graceMillis);
        }

        @Override
        public void attended() {
            calls.add("attended");
        }
    }

    /** What the generating node wrote, as Redis holds it: id and encoded entry. */
    private record Copied(long id, String encoded, boolean last) {
    }

    @Test
    void aMirrorFedWithTheCopiedEntriesRendersResumesAndEndsLikeTheStreamItself() throws Exception {
        List<Copied> redis = new ArrayList<>();
        CountDownLatch terminated = new CountDownLatch(1);
        EventLog<StreamEntry> log = new ReplicatedEventLog<>(new MemoryEventLog<>(60_000),
                (id, entry, last) -> redis.add(new Copied(id, EntryCodec.STREAMS.encode(entry), last)));
        LocalStream origin = new LocalStream("s-1", StreamType.CHAT, "c-1", "anon:me", "c-1", "m", log, timers, ticker,
                new Stream.Settings(10_000, 4, 1 << 20), (s, end) -> CompletableFuture.completedFuture("msg-1"));
        origin.start(Json.createObjectBuilder().add("streamId", "s-1").add("conversationId", "c-1").build(),
                () -> () -> { }, terminated::countDown);
        origin.onDelta(null, "think");
        origin.onDelta("héllo ", null);
        origin.onDelta("wörld 🌍 ", "more");
        origin.onDelta("and the rest", null);
        origin.onComplete("stop", Json.createObjectBuilder().add("total_tokens", 42).build(), "m-2");
        assertTrue(terminated.await(5, TimeUnit.SECONDS));

        List<String> calls = new ArrayList<>();
        FollowedStream mirror = Stream.mirror("s-1", StreamType.CHAT, "c-1", "anon:me", "c-1", "m", Instant.now(),
                new MemoryEventLog<>(60_000), new Recorder(calls));
        assertEquals(StreamStatus.CONNECTING, mirror.status());
        long expected = 1;
        for (Copied copied : redis) {
            assertEquals(expected++, copied.id(), "copied in id order, without gaps");
            assertEquals(copied.last(), copied.id() == redis.size(), "only the last entry ends the log");
            mirror.replicate(EntryCodec.STREAMS.decode(copied.encoded()));
            // GET /api/streams reads only the last entry of another node's log: the status a mirror has
            assertEquals(mirror.terminated() ? java.util.Optional.empty() : java.util.Optional.of(mirror.status()),
                    RemoteSummaries.runningStatus(EntryCodec.STREAMS.decode(copied.encoded())),
                    "status after " + copied.id());
        }

        assertEquals(origin.lastEventId(), mirror.lastEventId());
        for (long id = 0; id < origin.lastEventId(); id++) {
            EventLog.Logged<StreamEntry> a = origin.log().after(id, 1).get(0);
            EventLog.Logged<StreamEntry> b = mirror.log().after(id, 1).get(0);
            assertEquals(origin.sse(a), mirror.sse(b), "event " + (id + 1) + " renders the same on the mirror");
        }
        assertTrue(mirror.terminated());
        assertEquals(StreamStatus.COMPLETED, mirror.status());
        assertEquals("msg-1", mirror.messageId());
        assertEquals(origin.content(), mirror.content());
        assertEquals(origin.reasoning(), mirror.reasoning());
        assertEquals(origin.contentLength(), mirror.contentLength());
        assertEquals(origin.end(), mirror.end());
        for (int offset = 0; offset <= origin.contentLength(); offset++) {
            Stream.Resumption a = origin.resumeAt(offset);
            Stream.Resumption b = mirror.resumeAt(offset);
            assertEquals(a.afterId(), b.afterId(), "offset " + offset);
            assertEquals(a.first(), b.first(), "offset " + offset);
        }

        // an ended mirror is not stopped again; control of a running one goes to its node
        assertFalse(mirror.stop(Reason.USER, MessageStatus.STOPPED));
        FollowedStream running = Stream.mirror("s-2", StreamType.CHAT, null, "anon:me", null, null, Instant.now(),
                new MemoryEventLog<>(60_000), new Recorder(calls));
        running.replicate(new StreamEntry.Opened(Json.createObjectBuilder().add("streamId", "s-2").build()));
        assertTrue(running.stop(Reason.USER, MessageStatus.STOPPED));
        running.abortOnUnload(2_000);
        running.follow(() -> { });
        running.attended();
        assertEquals(List.of("stop user STOPPED", "unload 2000", "attended", "attended"), calls);
        assertEquals(StreamStatus.CONNECTING, running.status(), "the mirror itself changes only by its log");
    }

    @Test
    void theCodecKeepsEveryMemberOfEveryEntry() {
        JsonObject usage = Json.createObjectBuilder().add("prompt_tokens", 3).add("completion_tokens", 4).build();
        List<StreamEntry> entries = List.of(
                new StreamEntry.Opened(Json.createObjectBuilder().add("streamId", "s").add("type", "chat")
                        .add("nested", Json.createObjectBuilder().add("x", 1)).build()),
                new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, 7, "a \"quoted\"\n\u2028 🌍", 20, false),
                new StreamEntry.Delta(DeltaCoalescer.Kind.REASONING, 0, "why", 20, false),
                new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, 20, "", 20, true),
                new StreamEntry.Ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "length",
                        usage, "m", null), "msg", 20),
                new StreamEntry.Ended(Stream.End.stopped(Reason.UNLOAD, MessageStatus.STOPPED), null, 0),
                new StreamEntry.Ended(new Stream.End(StreamStatus.ERROR, MessageStatus.PARTIAL, "RATE_LIMITED", null,
                        null, "m", new UpstreamException(FailureCode.RATE_LIMITED, "slow down", 429, 7L)), "msg", 5));
        for (StreamEntry entry : entries) {
            StreamEntry back = EntryCodec.STREAMS.decode(EntryCodec.STREAMS.encode(entry));
            if (entry instanceof StreamEntry.Ended e && e.end().failure() != null) {
                StreamEntry.Ended b = (StreamEntry.Ended) back;
                UpstreamException f = b.end().failure();
                assertEquals(e.end().failure().code(), f.code());
                assertEquals(e.end().failure().getMessage(), f.getMessage());
                assertEquals(429, f.upstreamStatus());
                assertEquals(7L, f.retryAfterSeconds());
                assertEquals(SseEvents.render(9, entry), SseEvents.render(9, back), "renders the same");
            } else {
                assertEquals(entry, back);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.STREAMS.decode("{\"t\":\"x\"}"));
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.STREAMS.decode("not json"));
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.STREAMS.decode("{\"t\":\"d\"}"));
    }
}
