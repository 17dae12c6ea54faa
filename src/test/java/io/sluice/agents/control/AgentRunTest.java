package io.sluice.agents.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.FlushTicker;
import io.sluice.streams.control.LocalStream;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamType;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A run's frame log, agent scheduling, stops and grace, with real {@link Stream}s whose generations the test
 * drives by hand (no container, no provider).
 */
class AgentRunTest {

    private final ExecutorService work = Executors.newFixedThreadPool(4);
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
    private final FlushTicker ticker = new FlushTicker(timers, TimeUnit.MILLISECONDS.toNanos(1));
    /** The stream of each started agent. */
    private final Map<String, LocalStream> streams = new ConcurrentHashMap<>();
    private final Map<String, CompletionRequest> requests = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    /** "agent:messageStatus" per saved agent message. */
    private final List<String> saved = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger maxRunning = new AtomicInteger();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final AtomicInteger recorded = new AtomicInteger();

    @AfterEach
    void stop() {
        work.shutdownNow();
        timers.shutdownNow();
    }

    private AgentRun run(int maxParallel, long graceMillis) {
        AgentRun.Starter starter = (run, spec, request) -> {
            LocalStream stream = new LocalStream("s-" + spec.name(), StreamType.AGENT, run.id(), "anon:me", "c-1", null,
                    new MemoryEventLog<>(600_000), timers, ticker, new Stream.Settings(10_000, 1, 1 << 20),
                    (s, end) -> {
                        running.decrementAndGet(); // saved: the agent's generation is over, before its Ended entry
                        saved.add(spec.name() + ":" + end.messageStatus().value());
                        return CompletableFuture.completedFuture("m-" + spec.name());
                    });
            requests.put(spec.name(), request);
            int now = running.incrementAndGet();
            maxRunning.accumulateAndGet(now, Math::max);
            stream.start(Json.createObjectBuilder().add("agent", spec.name()).build(),
                    () -> () -> cancelled.add(spec.name()), () -> { });
            streams.put(spec.name(), stream);
            return stream;
        };
        AgentRun.Slots slots = new AgentRun.Slots() {
            @Override
            public void acquire(Runnable granted) {
                work.execute(granted);
            }

            @Override
            public void release() {
            }
        };
        AgentRun run = new AgentRun("r-1", "anon:me", "Explain garbage collection", Roster.defaults().select(null, 8),
                "c-1", "m", work, timers, maxParallel, graceMillis, starter, slots,
                r -> CompletableFuture.completedFuture(recorded.incrementAndGet()));
        run.start(ended::countDown);
        return run;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    private LocalStream started(String agent) throws InterruptedException {
        await(() -> streams.containsKey(agent), agent + " to start");
        return streams.get(agent);
    }

    private static List<JsonObject> frames(AgentRun run) {
        List<JsonObject> frames = new ArrayList<>();
        for (AgentRun.RunFrame f : run.framesAfter(0, 100_000)) {
            JsonObject o = Json.createReader(new StringReader(f.json())).readObject();
            assertEquals(f.sequence(), o.getJsonNumber("sequence").longValue());
            frames.add(o);
        }
        return frames;
    }

    private static Map<String, String> contents(List<JsonObject> frames) {
        Map<String, String> text = new LinkedHashMap<>();
        for (JsonObject f : frames) {
            if (f.getString("type").equals("agent_output") && f.containsKey("content")) {
                text.merge(f.getString("agent"), f.getString("content"), String::concat);
            }
        }
        return text;
    }

    private static List<String> statuses(List<JsonObject> frames, String agent) {
        return frames.stream().filter(f -> f.getString("type").equals("agent_status")
                && f.getString("agent").equals(agent)).map(f -> f.getString("status")).toList();
    }

    @Test
    void agentsRunInDependencyOrderAndTheLogIsGapless() throws Exception {
        AgentRun run = run(3, 600_000);
        LocalStream planner = started("planner");
        Thread.sleep(50);
        assertFalse(streams.containsKey("researcher"), "the researcher waits for the plan");
        planner.onDelta("1. Look ", null);
        planner.onDelta("things up.", null);
        planner.onComplete("stop", null, null);
        LocalStream researcher = started("researcher");
        LocalStream critic = started("critic");
        researcher.onDelta("GC ", null);
        critic.onDelta("Risk: ", null);
        researcher.onDelta("frees memory.", null);
        critic.onDelta("pauses.", null);
        Thread.sleep(50);
        assertFalse(streams.containsKey("writer"), "the writer waits for both");
        researcher.onComplete("stop", null, null);
        critic.onComplete("stop", null, null);
        LocalStream writer = started("writer");
        writer.onDelta("# Garbage collection\n", "thinking");
        writer.onComplete("stop", null, null);
        assertTrue(ended.await(5, TimeUnit.SECONDS));

        List<JsonObject> frames = frames(run);
        assertEquals("run_started", frames.get(0).getString("type"));
        JsonObject last = frames.get(frames.size() - 1);
        assertEquals("run_complete", last.getString("type"));
        assertEquals("completed", last.getString("status"));
        assertEquals(AgentRun.RunStatus.COMPLETED, run.status());
        assertEquals(Map.of("planner", "1. Look things up.", "researcher", "GC frees memory.",
                "critic", "Risk: pauses.", "writer", "# Garbage collection\n"), contents(frames));
        for (String agent : List.of("planner", "researcher", "critic", "writer")) {
            assertEquals(List.of("running", "completed"), statuses(frames, agent), agent);
        }
        assertTrue(frames.stream().anyMatch(f -> "thinking".equals(f.getString("reasoning", null))));
        String writerInput = requests.get("writer").lastUserMessage();
        assertTrue(writerInput.contains("<input from=\"researcher\">\nGC frees memory.\n</input>"), writerInput);
        assertTrue(writerInput.contains("<input from=\"critic\">\nRisk: pauses.\n</input>"), writerInput);
        assertEquals("agent:writer", requests.get("writer").task());
        assertEquals(4, saved.size());
        assertEquals(1, recorded.get(), "the run's end is recorded once, before run_complete");
        assertEquals(2, maxRunning.get(), "researcher and critic ran at once");
    }

    @Test
    void stoppingOneAgentLetsTheOthersGoOn() throws Exception {
        AgentRun run = run(3, 600_000);
        started("planner").onComplete("stop", null, null);
        LocalStream researcher = started("researcher");
        LocalStream critic = started("critic");
        researcher.onDelta("half", null);
        await(() -> contents(frames(run)).containsKey("researcher"), "the researcher's output");
        run.stop("researcher", "user");
        assertTrue(cancelled.contains("researcher"), "the upstream request is cancelled at once");
        await(() -> statuses(frames(run), "researcher").contains("stopped"), "researcher stopped");
        critic.onDelta("fine", null);
        critic.onComplete("stop", null, null);
        LocalStream writer = started("writer");
        assertTrue(requests.get("writer").lastUserMessage().contains("<input from=\"researcher\">\nhalf\n"),
                "the writer reads what the stopped agent wrote");
        writer.onComplete("stop", null, null);
        assertTrue(ended.await(5, TimeUnit.SECONDS));
        assertEquals(AgentRun.RunStatus.PARTIAL, run.status());
        assertTrue(saved.contains("researcher:stopped"), saved.toString());
    }

    @Test
    void stoppingTheRunEndsEveryAgentAndStartsNoMore() throws Exception {
        AgentRun run = run(3, 600_000);
        started("planner").onDelta("plan", null);
        run.stop(null, "user");
        assertTrue(ended.await(5, TimeUnit.SECONDS));
        List<JsonObject> frames = frames(run);
        assertEquals(List.of("running", "stopped"), statuses(frames, "planner"));
        assertEquals(List.of("stopped"), statuses(frames, "writer"), "a waiting agent ends without starting");
        assertEquals("stopped", frames.get(frames.size() - 1).getString("status"));
        assertEquals(Set.of("planner"), streams.keySet());
        assertEquals(List.of("planner:stopped"), saved);
    }

    @Test
    void aFailedDependencyFailsItsDependentsWithoutCallingTheUpstream() throws Exception {
        AgentRun run = run(3, 600_000);
        started("planner").onFailure(new UpstreamException(FailureCode.UPSTREAM_ERROR, "HTTP 500"));
        assertTrue(ended.await(5, TimeUnit.SECONDS));
        List<JsonObject> frames = frames(run);
        JsonObject failed = frames.stream().filter(f -> f.getString("type").equals("agent_status")
                && f.getString("agent").equals("writer")).findFirst().orElseThrow();
        assertEquals("error", failed.getString("status"));
        assertEquals("DEPENDENCY_FAILED", failed.getString("code"));
        assertEquals(AgentRun.RunStatus.ERROR, run.status());
        assertEquals(Set.of("planner"), streams.keySet());
    }

    @Test
    void theRunRespectsItsParallelCap() throws Exception {
        run(1, 600_000);
        started("planner").onComplete("stop", null, null);
        await(() -> streams.containsKey("researcher") || streams.containsKey("critic"), "a second agent");
        Thread.sleep(50);
        assertEquals(2, streams.size(), "one at a time");
        String first = streams.containsKey("researcher") ? "researcher" : "critic";
        streams.get(first).onComplete("stop", null, null);
        String second = first.equals("researcher") ? "critic" : "researcher";
        started(second).onComplete("stop", null, null);
        started("writer").onComplete("stop", null, null);
        assertTrue(ended.await(5, TimeUnit.SECONDS));
        assertEquals(1, maxRunning.get());
    }

    @Test
    void aRunNobodyFollowsIsStoppedAfterTheGrace() throws Exception {
        AgentRun run = run(3, 200);
        started("planner").onDelta("some", null);
        assertTrue(ended.await(5, TimeUnit.SECONDS));
        assertEquals(AgentRun.RunStatus.STOPPED, run.status());
        assertEquals("client_disconnected", run.stopReason());
        assertEquals(List.of("planner:partial"), saved);
    }

    @Test
    void aFollowedRunOutlivesTheGraceAndResumesFromAnySequence() throws Exception {
        AgentRun run = run(3, 200);
        AtomicInteger wakes = new AtomicInteger();
        run.follow(wakes::incrementAndGet);
        LocalStream planner = started("planner");
        planner.onDelta("a", null);
        Thread.sleep(400);
        assertEquals(AgentRun.RunStatus.RUNNING, run.status());
        planner.onDelta("b", null);
        await(() -> run.lastSequence() >= 4, "frames");
        List<AgentRun.RunFrame> tail = run.framesAfter(2, 100);
        assertEquals(3, tail.get(0).sequence());
        assertTrue(wakes.get() > 0);
    }
}
