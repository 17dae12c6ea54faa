package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The simulated model's pace is kept on the timers, its tokens' work done on the work pool, in script order. */
class SimulatedProviderTest {

    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2,
            r -> new Thread(r, "timer"));
    private final ExecutorService work = Executors.newFixedThreadPool(4, r -> new Thread(r, "work"));

    @AfterEach
    void stop() {
        timers.shutdownNow();
        work.shutdownNow();
    }

    @Test
    void tokensComeOnTheWorkPoolInScriptOrderThenTheEnd() throws Exception {
        CompletionRequest request = new CompletionRequest("simulated", null,
                List.of(new CompletionRequest.ChatMessage("user", "How do rivers shape valleys?")));
        SimulatedScript.Script script = SimulatedScript.compose(request.lastUserMessage(), null, "simulated");
        List<String> tokens = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        AtomicBoolean overlapped = new AtomicBoolean();
        AtomicBoolean inside = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        new SimulatedProvider(timers, work, 1000).stream(request, new GenerationListener() {
            @Override
            public void onDelta(String content, String reasoning) {
                if (!inside.compareAndSet(false, true)) {
                    overlapped.set(true);
                }
                threads.add(Thread.currentThread().getName());
                tokens.add(content);
                inside.set(false);
            }

            @Override
            public void onComplete(String finishReason, JsonObject usage, String model) {
                threads.add(Thread.currentThread().getName());
                done.countDown();
            }

            @Override
            public void onFailure(UpstreamException failure) {
                done.countDown();
            }
        });
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertEquals(script.answer(), tokens, "every token, in order");
        assertFalse(overlapped.get(), "the listener's calls never overlap");
        assertTrue(threads.stream().allMatch("work"::equals), "no token's work on the timers: " + threads);
    }

    @Test
    void aRefusedHandOverRunsTheTickOnTheTimer() throws Exception {
        work.shutdown();
        CountDownLatch done = new CountDownLatch(1);
        new SimulatedProvider(timers, work, 1000).stream(new CompletionRequest("simulated", null,
                List.of(new CompletionRequest.ChatMessage("user", "hi"))), new GenerationListener() {
                    @Override
                    public void onDelta(String content, String reasoning) {
                    }

                    @Override
                    public void onComplete(String finishReason, JsonObject usage, String model) {
                        done.countDown();
                    }

                    @Override
                    public void onFailure(UpstreamException failure) {
                    }
                });
        assertTrue(done.await(30, TimeUnit.SECONDS), "the generation still ends");
    }
}
