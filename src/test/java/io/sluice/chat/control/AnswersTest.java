package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.entity.Message;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.FlushTicker;
import io.sluice.streams.control.LocalStream;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamType;
import jakarta.json.Json;
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

/** The saved answer of an ended stream: its error (API.md section 13) and its raw record, taken once at the end. */
class AnswersTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private final FlushTicker ticker = new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(1));

    @AfterEach
    void stop() {
        timers.shutdownNow();
    }

    /** Runs a stream to its end with {@code end}, and returns the message its save built. */
    private Message answerOf(java.util.function.Consumer<LocalStream> end) throws Exception {
        List<Message> saved = new ArrayList<>();
        CountDownLatch terminated = new CountDownLatch(1);
        LocalStream stream = new LocalStream("s-a", StreamType.CHAT, "c-1", "anon:me", "c-1", "m",
                new MemoryEventLog<>(60_000),
                timers, ticker, new Stream.Settings(10_000, 1, 1 << 20, 0, 30_000, 1 << 20), (s, how) -> {
                    saved.add(Answers.of("a-1", "c-1", 2, Instant.EPOCH, "{\"model\":\"m\"}", s, how));
                    return CompletableFuture.completedFuture("a-1");
                });
        stream.start(Json.createObjectBuilder().add("streamId", "s-a").build(), () -> () -> { },
                terminated::countDown);
        RawCapture raw = stream.rawCapture();
        raw.sent(System.nanoTime());
        raw.status(200);
        raw.chunk("{\"choices\":[]}", true, System.nanoTime());
        stream.onDelta("so far", null);
        end.accept(stream);
        assertTrue(terminated.await(5, TimeUnit.SECONDS));
        return saved.get(0);
    }

    @Test
    void aFailedAnswerKeepsTheErrorEventsMessageAndItsRawRecord() throws Exception {
        Message answer = answerOf(s -> s.onFailure(new UpstreamException(FailureCode.UPSTREAM_ERROR,
                "the upstream failed (HTTP 500): fake failure 500", 500, null)));
        assertEquals("error", answer.getStatus());
        assertEquals("UPSTREAM_ERROR", answer.getEndReason());
        assertEquals("the upstream failed (HTTP 500): fake failure 500", answer.getErrorMessage());
        assertEquals("so far", answer.getContent());
        assertEquals("{\"model\":\"m\"}", answer.getUpstreamRequest());
        assertTrue(RawCapture.decode(answer.getRawResponse()).startsWith("{\"chunks\":[{\"choices\":[]}],"));
    }

    @Test
    void aCompletedOrStoppedAnswerHasNoErrorButItsRawRecord() throws Exception {
        Message completed = answerOf(s -> s.onComplete("stop", null, null));
        assertNull(completed.getErrorMessage());
        assertNotNull(completed.getRawResponse());
        Message stopped = answerOf(s -> s.stop(Reason.USER, io.sluice.conversations.entity.MessageStatus.STOPPED));
        assertNull(stopped.getErrorMessage());
        assertNotNull(stopped.getRawResponse());
    }

    @Test
    void aLongErrorMessageIsCutToItsColumn() {
        Message m = new Message("a", "c", 1, "assistant", "", io.sluice.conversations.entity.MessageStatus.ERROR,
                Instant.EPOCH);
        m.setErrorMessage("x".repeat(Message.MAX_ERROR_MESSAGE - 1) + "\uD83D\uDE00" + "tail");
        assertEquals(Message.MAX_ERROR_MESSAGE - 1, m.getErrorMessage().length(), "never half a surrogate pair");
    }
}
