package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gate of a chat turn's upstream request that starts before its stream (issue 21). */
class GatedListenerTest {

    /** Records the calls it gets, in order. */
    private static final class Recorder implements GenerationListener {
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onDelta(String content, String reasoning) {
            calls.add("delta:" + content + "/" + reasoning);
        }

        @Override
        public void onComplete(String finishReason, JsonObject usage, String model) {
            calls.add("complete:" + finishReason);
        }

        @Override
        public void onFailure(UpstreamException failure) {
            calls.add("failure:" + failure.code());
        }
    }

    @Test
    void nothingPassesBeforeTheAttachThenEverythingInOrder() {
        RawCapture raw = new RawCapture(1024);
        GatedListener gate = new GatedListener(raw);
        assertSame(raw, gate.rawCapture(), "the provider writes the raw record the stream will keep");
        gate.onDelta(null, "think");
        gate.onDelta("a", null);
        Recorder stream = new Recorder();
        assertTrue(stream.calls.isEmpty());
        gate.attach(stream);
        assertEquals(List.of("delta:null/think", "delta:a/null"), stream.calls, "what was held, in order");
        gate.onDelta("b", null);
        gate.onComplete("stop", null, "m");
        assertEquals(List.of("delta:null/think", "delta:a/null", "delta:b/null", "complete:stop"), stream.calls);
        assertThrows(IllegalStateException.class, () -> gate.attach(new Recorder()));
    }

    @Test
    void aFailureBeforeTheAttachReachesTheStreamAtItsStart() {
        GatedListener gate = new GatedListener(null);
        gate.onFailure(new UpstreamException(FailureCode.UPSTREAM_ERROR, "refused"));
        Recorder stream = new Recorder();
        gate.attach(stream);
        assertEquals(List.of("failure:UPSTREAM_ERROR"), stream.calls);
    }

    @Test
    void callsRacingTheAttachKeepTheirOrder() throws Exception {
        for (int round = 0; round < 200; round++) {
            GatedListener gate = new GatedListener(null);
            CountDownLatch started = new CountDownLatch(1);
            Thread provider = new Thread(() -> {
                started.countDown();
                for (int i = 0; i < 200; i++) {
                    gate.onDelta(Integer.toString(i), null);
                }
            });
            provider.start();
            started.await();
            Recorder stream = new Recorder();
            gate.attach(stream);
            provider.join(TimeUnit.SECONDS.toMillis(10));
            assertEquals(200, stream.calls.size());
            for (int i = 0; i < 200; i++) {
                assertEquals("delta:" + i + "/null", stream.calls.get(i), "round " + round);
            }
        }
    }
}
