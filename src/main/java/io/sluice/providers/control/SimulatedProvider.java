package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The built-in simulated model: deterministic, no network. It streams the {@link SimulatedScript} for the
 * last user message, reasoning first when the model name asks for it, one token per tick at the configured
 * pace (default 30 tokens/s), and finishes with {@code stop} and a usage object counting tokens. The scheduler given
 * (the 2-thread timer pool) only keeps the pace: each tick hands the token's work (the listener's calls, which append
 * to the stream's log and wake its followers) to the work pool, so that timers never wait behind stream work. No
 * thread is held between ticks.
 */
public final class SimulatedProvider implements ChatProvider {

    /** The model name reported when a request names none. */
    public static final String DEFAULT_MODEL = "simulated";

    private final ScheduledExecutorService scheduler;
    private final Executor work;
    private final long tickNanos;

    /**
     * @param scheduler       keeps the pace: one tick per token
     * @param work            runs each token's work (the work pool, {@code ManagedExecutors.work()})
     * @param tokensPerSecond pace, at least 1
     */
    public SimulatedProvider(ScheduledExecutorService scheduler, Executor work, int tokensPerSecond) {
        this.scheduler = scheduler;
        this.work = work;
        this.tickNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, tokensPerSecond);
    }

    /** True for model names this provider answers: {@code simulated} and {@code simulated-*}. */
    public static boolean handles(String model) {
        return model != null && (model.equals(DEFAULT_MODEL) || model.startsWith(DEFAULT_MODEL + "-"));
    }

    @Override
    public String name() {
        return "simulated";
    }

    @Override
    public Generation stream(CompletionRequest request, GenerationListener listener) {
        String model = request.model() != null ? request.model() : DEFAULT_MODEL;
        boolean typed = request.task() != null && !"chat".equals(request.task());
        SimulatedScript.Script script = typed
                ? SimulatedScript.composeTask(request.task(), request.lastUserMessage(), model)
                : SimulatedScript.compose(request.lastUserMessage(), request.systemPrompt(), model);
        int promptTokens = request.messages().stream().mapToInt(m -> m.content().split("\\s+").length).sum();
        Run run = new Run(script, listener, model, promptTokens);
        run.future = scheduler.scheduleAtFixedRate(() -> handOver(run), tickNanos, tickNanos, TimeUnit.NANOSECONDS);
        return run;
    }

    /**
     * On the timer: hands one tick to the work pool; when that pool refuses it (it is shutting down), the tick runs
     * here, as before, so that the generation still ends.
     */
    private void handOver(Run run) {
        try {
            work.execute(run::tick);
        } catch (RejectedExecutionException e) {
            run.tick();
        }
    }

    /**
     * One generation's position in its script. Its ticks may run on different work threads, queued in the order the
     * timer handed them; {@link #tick} takes the next token under the lock, so the listener's calls never overlap
     * and come in script order ({@link GenerationListener}'s contract).
     */
    private static final class Run implements Generation {
        private final List<String> reasoning;
        private final List<String> answer;
        private final GenerationListener listener;
        private final String model;
        private final int promptTokens;
        private int next;
        private boolean over;
        volatile ScheduledFuture<?> future;

        Run(SimulatedScript.Script script, GenerationListener listener, String model, int promptTokens) {
            this.reasoning = script.reasoning();
            this.answer = script.answer();
            this.listener = listener;
            this.model = model;
            this.promptTokens = promptTokens;
        }

        synchronized void tick() {
            if (over) {
                return;
            }
            int total = reasoning.size() + answer.size();
            if (next < reasoning.size()) {
                listener.onDelta(null, reasoning.get(next));
            } else if (next < total) {
                listener.onDelta(answer.get(next - reasoning.size()), null);
            }
            next++;
            if (next >= total) {
                over = true;
                stopTicking();
                listener.onComplete("stop", JSON.createObjectBuilder()
                        .add("prompt_tokens", promptTokens)
                        .add("completion_tokens", total)
                        .add("total_tokens", promptTokens + total)
                        .build(), model);
            }
        }

        @Override
        public synchronized void cancel() {
            over = true;
            stopTicking();
        }

        private void stopTicking() {
            ScheduledFuture<?> f = future;
            if (f != null) {
                f.cancel(false);
            }
        }
    }
}
