package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.problems.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.streams.control.Follower;
import io.sluice.streams.control.ResumeGrace;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamEvent;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One multi-agent run (API.md section 5): a small pipeline of agents over the providers, whose output is one
 * log of frames that any number of its owner's WebSocket sessions follow.
 *
 * <p><b>The log.</b> Frames get sequence numbers 1, 2, 3, ... without gaps across all agents, so "the frames after
 * N" is an index: {@code run_started} first, then {@code agent_status} ({@code running}, then one of
 * {@code completed}, {@code stopped}, {@code error}) and {@code agent_output} frames, and {@code run_complete}
 * last. An {@code agent_output} frame stores only a range of its agent's text, which lives in the agent's
 * {@link Stream}; its JSON is rendered when a session reads it.
 *
 * <p><b>Agents.</b> Each agent's generation is a stream of the hub ({@link Starter}), so it inherits its
 * cancellation, coalescing, retention and persistence (the agent's message is saved when its stream ends, before
 * its terminal event). The run follows each agent's stream as a {@link Follower} and turns its events into frames,
 * in order. An agent starts when every agent it depends on has ended and a slot is free: at most
 * {@code maxParallel} agents of the run at once, and the owner's {@link Slots}. If an agent it depends on ended in
 * {@code error}, it ends in {@code error} too ({@code DEPENDENCY_FAILED}) without calling the upstream; a
 * dependency that was stopped passes on the text it produced so far.
 *
 * <p><b>Ending.</b> {@link #stop} ends one agent or the whole run (cancelling upstream requests at once). While no
 * session follows the run for the resume grace period, the run is stopped as abandoned (its agents' text saved as
 * {@code partial}). When every agent has ended, the {@link Outcome} runs (it records the run), then
 * {@code run_complete} is appended with the run's status: {@code completed} (every agent completed),
 * {@code stopped} (the run was stopped or abandoned), {@code error} (every agent failed), else {@code partial}.
 *
 * <p>Thread safety: the state is guarded by {@code this}; agent streams, sessions and timers call in from any
 * thread. No lock of the run is held while calling a stream, the starter or the outcome.
 */
public final class AgentRun {

    private static final Logger LOG = Logger.getLogger(AgentRun.class.getName());
    /** Stream events read per batch by an agent's feed. */
    private static final int BATCH = 64;

    /** The status of an agent, as {@code agent_status} frames carry it ({@link #wire()}). */
    public enum AgentStatus {
        WAITING, RUNNING, COMPLETED, STOPPED, ERROR;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        boolean ended() {
            return this == COMPLETED || this == STOPPED || this == ERROR;
        }
    }

    /** The status of a run, as {@code run_complete} frames and {@code GET /api/agents/runs} carry it. */
    public enum RunStatus {
        RUNNING, COMPLETED, PARTIAL, STOPPED, ERROR;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Starts one agent's generation as a stream of the hub. */
    public interface Starter {
        /**
         * @throws ProblemException 429 when the owner or the node runs too many streams; the agent then ends in
         *                          {@code error} with code {@code TOO_MANY_STREAMS}
         */
        Stream start(AgentRun run, AgentSpec agent, CompletionRequest request);
    }

    /** The owner's agent slots, shared by all their runs. */
    public interface Slots {
        /** Runs {@code granted} (on an executor) once a slot is free; the holder must {@link #release} it. */
        void acquire(Runnable granted);

        void release();
    }

    /** What happens when every agent has ended, before {@code run_complete}: recording the run. */
    public interface Outcome {
        void ended(AgentRun run);
    }

    /** A frame of the log, rendered. */
    public record RunFrame(long sequence, String json) {
    }

    /** A frame: rendered JSON, or a range of an agent's content or reasoning. */
    private record Frame(String json, Agent agent, boolean reasoning, int from, int to) {
    }

    /** One agent of the run; it follows its stream and turns its events into frames. */
    private final class Agent implements Follower {
        final AgentSpec spec;
        AgentStatus status = AgentStatus.WAITING;
        boolean holdsRunSlot;
        boolean holdsOwnerSlot;
        Stream stream;
        String stopReason;
        String stopMessageStatus;
        int contentEmitted;
        int reasoningEmitted;
        String code;
        String error;
        private long cursor;
        private final AtomicInteger wakeups = new AtomicInteger();

        Agent(AgentSpec spec) {
            this.spec = spec;
        }

        @Override
        public void wake() {
            if (wakeups.getAndIncrement() == 0) {
                executor.execute(this::drain);
            }
        }

        /** Reads the stream's new events in order; one drain at a time per agent (the wakeups counter). */
        private void drain() {
            int seen;
            do {
                seen = wakeups.get();
                Stream s = stream;
                List<StreamEvent> events = s.eventsAfter(cursor, BATCH);
                while (!events.isEmpty()) {
                    for (StreamEvent event : events) {
                        cursor = event.id();
                        if (handle(event)) {
                            s.detach(this);
                            return;
                        }
                    }
                    events = s.eventsAfter(cursor, BATCH);
                }
            } while (!wakeups.compareAndSet(seen, 0));
        }

        /** @return whether the event was the stream's last */
        private boolean handle(StreamEvent event) {
            switch (event.name()) {
                case "message" -> {
                    JsonObject data = parse(event.data());
                    if (data.get("delta") instanceof JsonString delta) {
                        output(this, false, delta.getString().length());
                    } else if (data.get("reasoning") instanceof JsonString reasoning) {
                        output(this, true, reasoning.getString().length());
                    }
                    return false;
                }
                case "done" -> {
                    agentEnded(this, AgentStatus.COMPLETED, null, null);
                    return true;
                }
                case "stopped" -> {
                    agentEnded(this, AgentStatus.STOPPED, null, null);
                    return true;
                }
                case "error" -> {
                    JsonObject data = parse(event.data());
                    agentEnded(this, AgentStatus.ERROR, data.getString("code", "UPSTREAM_ERROR"),
                            data.getString("error", "the agent's generation failed"));
                    return true;
                }
                default -> {
                    return false;
                }
            }
        }
    }

    private final String id;
    private final String owner;
    private final String task;
    private final String conversationId;
    private final String model;
    private final Instant createdAt = Instant.now();
    private final List<Agent> agents = new ArrayList<>();
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final int maxParallel;
    private final ResumeGrace grace;
    private final Starter starter;
    private final Slots slots;
    private final Outcome outcome;
    private final Set<Follower> followers = ConcurrentHashMap.newKeySet();

    private final List<Frame> log = new ArrayList<>();
    private int active;
    private boolean stopping;
    private String stopReason;
    private boolean ending;
    private boolean terminated;
    private RunStatus status = RunStatus.RUNNING;
    private Instant endedAt;
    private Runnable onTerminated = () -> { };

    /**
     * @param id             an unguessable id
     * @param agents         the run's agents, each after those it depends on ({@link Roster#select})
     * @param conversationId the conversation the run's messages are saved in
     * @param model          the model to ask, or {@code null} for the default
     * @param maxParallel    most agents of this run generating at once, at least 1
     * @param resumeGraceMs  how long the run goes on with no session following it, in ms
     */
    public AgentRun(String id, String owner, String task, List<AgentSpec> agents, String conversationId, String model,
                    Executor executor, ScheduledExecutorService scheduler, int maxParallel, long resumeGraceMs,
                    Starter starter, Slots slots, Outcome outcome) {
        this.id = id;
        this.owner = owner;
        this.task = task;
        this.conversationId = conversationId;
        this.model = model;
        for (AgentSpec spec : agents) {
            this.agents.add(new Agent(spec));
        }
        this.executor = executor;
        this.scheduler = scheduler;
        this.maxParallel = Math.max(1, maxParallel);
        this.grace = new ResumeGrace(resumeGraceMs);
        this.starter = starter;
        this.slots = slots;
        this.outcome = outcome;
    }

    // --- lifecycle

    /**
     * Appends {@code run_started}, starts the agents that depend on none, and arms the resume grace.
     *
     * @param onTerminated told once, after {@code run_complete} was appended
     */
    public void start(Runnable onTerminated) {
        synchronized (this) {
            this.onTerminated = onTerminated;
            JsonObjectBuilder dependsOn = JSON.createObjectBuilder();
            var names = JSON.createArrayBuilder();
            for (Agent agent : agents) {
                names.add(agent.spec.name());
                var deps = JSON.createArrayBuilder();
                agent.spec.dependsOn().forEach(deps::add);
                dependsOn.add(agent.spec.name(), deps);
            }
            appendRendered(frame("run_started").add("task", task).add("agents", names).add("dependsOn", dependsOn)
                    .add("conversationId", conversationId));
            scheduleReady();
        }
        armGrace(grace.graceMillis());
    }

    /**
     * Stops one agent, or the whole run when {@code agent} is {@code null}: running generations are cancelled at
     * once (their text saved as {@code stopped}), waiting agents end without starting. Does nothing for an agent
     * or run that already ended.
     *
     * @param reason {@code user}, {@code client_disconnected} or {@code server_shutdown}
     * @throws IllegalArgumentException when the run has no agent of that name
     */
    public void stop(String agent, String reason) {
        String messageStatus = "user".equals(reason) ? "stopped" : "partial";
        List<Agent> toCancel = new ArrayList<>();
        synchronized (this) {
            List<Agent> targets;
            if (agent == null) {
                if (stopping || ending) {
                    return;
                }
                stopping = true;
                stopReason = reason;
                targets = agents;
            } else {
                targets = List.of(find(agent));
            }
            for (Agent a : targets) {
                if (a.status == AgentStatus.WAITING) {
                    if (a.holdsRunSlot) {
                        a.holdsRunSlot = false;
                        active--;
                    }
                    setStatus(a, AgentStatus.STOPPED);
                } else if (a.status == AgentStatus.RUNNING) {
                    a.stopReason = reason;
                    a.stopMessageStatus = messageStatus;
                    if (a.stream != null) {
                        toCancel.add(a);
                    }
                }
            }
            afterChange();
        }
        for (Agent a : toCancel) {
            a.stream.stop(reason, messageStatus);
        }
    }

    // --- sessions

    /** A session follows the run from now; counts as the owner's attention for the resume grace. */
    public void attach(Follower follower) {
        followers.add(follower);
        grace.attended();
        follower.wake();
    }

    /** A session no longer follows the run; with none left, the resume grace starts now. */
    public void detach(Follower follower) {
        followers.remove(follower);
        grace.detached();
    }

    /** Number of sessions following the run. */
    public int followerCount() {
        return followers.size();
    }

    // --- reading

    /**
     * The frames after sequence {@code after}, at most {@code max}, rendered.
     *
     * @param after the last sequence the reader has (0 for all)
     */
    public synchronized List<RunFrame> framesAfter(long after, int max) {
        int from = (int) Math.max(0, Math.min(after, log.size()));
        int to = Math.min(log.size(), from + max);
        List<RunFrame> frames = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            frames.add(new RunFrame(i + 1, render(i)));
        }
        return frames;
    }

    /** Sequence of the last frame (0 when none). */
    public synchronized long lastSequence() {
        return log.size();
    }

    /** Whether {@code run_complete} is in the log. */
    public synchronized boolean terminated() {
        return terminated;
    }

    public synchronized RunStatus status() {
        return status;
    }

    public synchronized Instant endedAt() {
        return endedAt;
    }

    /** The status of each agent, in run order. */
    public synchronized List<AgentState> agentStates() {
        List<AgentState> states = new ArrayList<>(agents.size());
        for (Agent a : agents) {
            states.add(new AgentState(a.spec.name(), a.status, a.stream == null ? null : a.stream.id(), a.code));
        }
        return states;
    }

    /**
     * An agent's state.
     *
     * @param streamId its stream, or {@code null} when it never started
     * @param code     the error code of a failed agent, else {@code null}
     */
    public record AgentState(String name, AgentStatus status, String streamId, String code) {
    }

    /** Whether the run has an agent of that name. */
    public boolean hasAgent(String name) {
        for (Agent a : agents) {
            if (a.spec.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    public String id() {
        return id;
    }

    public String owner() {
        return owner;
    }

    public String task() {
        return task;
    }

    public String conversationId() {
        return conversationId;
    }

    public String model() {
        return model;
    }

    public Instant createdAt() {
        return createdAt;
    }

    /** The agents' names, in run order. */
    public List<String> agentNames() {
        return agents.stream().map(a -> a.spec.name()).toList();
    }

    /** Why the run was stopped ({@code user}, {@code client_disconnected}, ...), or {@code null}. */
    public synchronized String stopReason() {
        return stopReason;
    }

    // --- inside

    private Agent find(String name) {
        for (Agent a : agents) {
            if (a.spec.name().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("the run has no agent named " + name);
    }

    /** Starts what can start, or completes the run; called with the lock held after every change. */
    private void afterChange() {
        if (!stopping) {
            scheduleReady();
        }
        if (!ending && agents.stream().allMatch(a -> a.status.ended())) {
            ending = true;
            status = stopping ? RunStatus.STOPPED
                    : agents.stream().allMatch(a -> a.status == AgentStatus.COMPLETED) ? RunStatus.COMPLETED
                    : agents.stream().allMatch(a -> a.status == AgentStatus.ERROR) ? RunStatus.ERROR
                    : RunStatus.PARTIAL;
            executor.execute(this::recordAndTerminate);
        }
    }

    private void scheduleReady() {
        for (Agent a : agents) {
            if (a.status != AgentStatus.WAITING || a.holdsRunSlot) {
                continue;
            }
            boolean depsEnded = true;
            boolean depFailed = false;
            for (String dep : a.spec.dependsOn()) {
                AgentStatus s = find(dep).status;
                depsEnded &= s.ended();
                depFailed |= s == AgentStatus.ERROR;
            }
            if (!depsEnded) {
                continue;
            }
            if (depFailed) {
                a.code = "DEPENDENCY_FAILED";
                a.error = "an agent it depends on failed";
                setStatus(a, AgentStatus.ERROR);
                continue; // the caller's completion check sees it; dependents of it are handled on the next change
            }
            if (active >= maxParallel) {
                return;
            }
            active++;
            a.holdsRunSlot = true;
            slots.acquire(() -> launch(a));
        }
    }

    /** Runs when the owner's slot is granted: starts the agent's stream, unless it was stopped meanwhile. */
    private void launch(Agent a) {
        CompletionRequest request;
        synchronized (this) {
            if (a.status != AgentStatus.WAITING) {
                slots.release(); // stopped while it waited for the slot
                return;
            }
            a.holdsOwnerSlot = true;
            List<AgentPrompts.Input> inputs = new ArrayList<>();
            for (String dep : a.spec.dependsOn()) {
                Agent d = find(dep);
                inputs.add(new AgentPrompts.Input(dep, d.stream == null ? "" : d.stream.content()));
            }
            request = AgentPrompts.request(model, a.spec, task, inputs);
            setStatus(a, AgentStatus.RUNNING);
        }
        Stream stream;
        try {
            stream = starter.start(this, a.spec, request);
        } catch (RuntimeException e) {
            boolean busy = e instanceof ProblemException p && p.status() == 429;
            if (!busy) {
                LOG.log(Level.SEVERE, "run " + id + ": agent " + a.spec.name() + " could not start", e);
            }
            agentEnded(a, AgentStatus.ERROR, busy ? "TOO_MANY_STREAMS" : "INTERNAL_ERROR",
                    busy ? e.getMessage() : "the agent could not start");
            return;
        }
        String cancel;
        String messageStatus;
        synchronized (this) {
            a.stream = stream;
            cancel = a.stopReason;
            messageStatus = a.stopMessageStatus;
        }
        stream.attach(a);
        if (cancel != null) {
            stream.stop(cancel, messageStatus);
        }
    }

    private void output(Agent a, boolean reasoning, int length) {
        if (length == 0) {
            return;
        }
        synchronized (this) {
            int from;
            if (reasoning) {
                from = a.reasoningEmitted;
                a.reasoningEmitted += length;
            } else {
                from = a.contentEmitted;
                a.contentEmitted += length;
            }
            append(new Frame(null, a, reasoning, from, from + length));
        }
    }

    private void agentEnded(Agent a, AgentStatus how, String code, String error) {
        boolean release;
        synchronized (this) {
            if (a.status.ended()) {
                return;
            }
            a.code = code;
            a.error = error;
            release = a.holdsOwnerSlot;
            a.holdsOwnerSlot = false;
            if (a.holdsRunSlot) {
                a.holdsRunSlot = false;
                active--;
            }
            setStatus(a, how);
            afterChange();
        }
        if (release) {
            slots.release();
        }
    }

    private void setStatus(Agent a, AgentStatus s) {
        a.status = s;
        JsonObjectBuilder frame = frame("agent_status").add("agent", a.spec.name()).add("status", s.wire());
        if (s == AgentStatus.ERROR) {
            frame.add("code", a.code).add("error", a.error);
        }
        appendRendered(frame);
    }

    private void recordAndTerminate() {
        try {
            outcome.ended(this);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "run " + id + ": its end could not be recorded", e);
        }
        Runnable told;
        synchronized (this) {
            endedAt = Instant.now();
            appendRendered(frame("run_complete").add("status", status.wire()));
            terminated = true;
            told = onTerminated;
        }
        told.run();
    }

    /** A frame builder with {@code type} and {@code runId}; {@link #appendRendered} adds the sequence. */
    private JsonObjectBuilder frame(String type) {
        return JSON.createObjectBuilder().add("type", type).add("runId", id);
    }

    private void appendRendered(JsonObjectBuilder frame) {
        append(new Frame(frame.add("sequence", log.size() + 1).build().toString(), null, false, 0, 0));
    }

    private void append(Frame frame) {
        log.add(frame);
        for (Follower follower : followers) {
            follower.wake();
        }
    }

    private String render(int index) {
        Frame f = log.get(index);
        if (f.json() != null) {
            return f.json();
        }
        return frame("agent_output").add("agent", f.agent().spec.name())
                .add(f.reasoning() ? "reasoning" : "content", f.agent().stream.slice(f.reasoning(), f.from(), f.to()))
                .add("sequence", index + 1)
                .build().toString();
    }

    private void armGrace(long delayMillis) {
        scheduler.schedule(this::checkGrace, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void checkGrace() {
        synchronized (this) {
            if (ending || stopping) {
                return;
            }
            long next = grace.nextCheckMillis(!followers.isEmpty());
            if (next > 0) {
                armGrace(next);
                return;
            }
        }
        stop(null, "client_disconnected");
    }

    private static JsonObject parse(String json) {
        try (JsonReader reader = JSON.createReader(new StringReader(json))) {
            return reader.readObject();
        }
    }
}
