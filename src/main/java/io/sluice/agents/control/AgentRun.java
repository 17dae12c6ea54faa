package io.sluice.agents.control;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.Pump;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamEntry;
import io.sluice.streams.control.StreamStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One multi-agent run (API.md section 5): a small pipeline of agents over the providers, whose output is one log of
 * typed {@link AgentFrame}s that any number of its owner's WebSocket sessions follow.
 *
 * <p><b>The log.</b> An {@link EventLog} whose ids are the frames' sequence numbers, 1, 2, 3, ... without gaps across
 * all agents: {@code run_started} first, then {@code agent_status} ({@code running}, then one of {@code completed},
 * {@code stopped}, {@code error}) and {@code agent_output} frames, and {@code run_complete} last. Frames are rendered
 * as JSON at the edge, once for all the sessions at that sequence ({@link #framesAfter}).
 *
 * <p><b>Agents.</b> Each agent's generation is a stream of the hub ({@link Starter}), so it inherits its cancellation,
 * coalescing, retention and persistence (the agent's message is saved when its stream ends, before its terminal
 * entry). The run follows each agent's stream log through its typed entries (a {@link Pump} per agent; no JSON is
 * parsed) and turns them into frames, in order. When agents start is decided by an {@link AgentSchedule}; an agent
 * also needs one of the owner's {@link Slots}.
 *
 * <p><b>Ending.</b> {@link #stop} ends one agent or the whole run (cancelling upstream requests at once). While no
 * session follows the run for the resume grace period, the run is stopped as abandoned (its agents' text saved as
 * {@code partial}). When every agent has ended, the {@link Outcome} records the run, then {@code run_complete} is
 * appended with the run's status: {@code completed} (every agent completed), {@code stopped} (the run was stopped or
 * abandoned), {@code error} (every agent failed), else {@code partial}.
 *
 * <p>Thread safety: the state is guarded by {@code this}; agent feeds, sessions and timers call in from any thread.
 * No lock of the run is held while calling into a stream's generation, the starter, the slots or the outcome.
 */
public final class AgentRun implements RunFrames {

    private static final Logger LOG = Logger.getLogger(AgentRun.class.getName());
    /** Stream entries read per batch by an agent's feed. */
    private static final int BATCH = 64;
    /** Rendered frames kept for the sessions at the same sequence: 8 slots, by sequence. */
    private static final int RENDERED_SLOTS = 8;

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
         * @throws ProblemException 429 or 503 when the owner or the node runs too many streams; the agent then ends
         *                          in {@code error} with code {@code TOO_MANY_STREAMS}
         */
        Stream start(AgentRun run, AgentSpec agent, CompletionRequest request);
    }

    /** The owner's agent slots, shared by all their runs. */
    public interface Slots {
        /** Runs {@code granted} (on an executor, never on the calling thread) once a slot is free. */
        void acquire(Runnable granted);

        /** Gives a slot back. */
        void release();
    }

    /** What happens when every agent has ended, before {@code run_complete}: recording the run. */
    public interface Outcome {
        /** @return completes when the run's end is recorded (or failed to be) */
        CompletionStage<?> ended(AgentRun run);
    }

    /** A frame of the log, rendered: its sequence and JSON text. */
    public record RunFrame(long sequence, String json) {
    }

    /**
     * An agent's state.
     *
     * @param streamId its stream, or {@code null} when it never started
     * @param code     the error code of a failed agent, else {@code null}
     */
    public record AgentState(String name, AgentStatus status, String streamId, String code) {
    }

    /** One agent of the run. */
    private static final class Agent {
        final AgentSpec spec;
        Stream stream;
        String stopReason;
        MessageStatus stopStatus;
        String code;
        String error;
        boolean holdsOwnerSlot;

        Agent(AgentSpec spec) {
            this.spec = spec;
        }
    }

    /** Follows an agent's stream log and turns its entries into the run's frames. */
    private final class Feed extends Pump {
        private final Agent agent;
        private final Stream stream;
        private long cursor;

        Feed(Agent agent, Stream stream) {
            super(executor);
            this.agent = agent;
            this.stream = stream;
        }

        @Override
        protected void pump() {
            List<EventLog.Logged<StreamEntry>> batch;
            while (!(batch = stream.log().after(cursor, BATCH)).isEmpty()) {
                for (EventLog.Logged<StreamEntry> logged : batch) {
                    cursor = logged.id();
                    StreamEntry entry = logged.entry();
                    if (entry instanceof StreamEntry.Delta d) {
                        output(agent, d.reasoning(), d.text());
                    } else if (entry instanceof StreamEntry.Ended e) {
                        ended(agent, e.end());
                        close();
                        return;
                    }
                }
            }
        }

        @Override
        protected void closed() {
            stream.unfollow(this);
        }
    }

    private final String id;
    private final String owner;
    private final String task;
    private final String conversationId;
    private final String model;
    private final Instant createdAt = Instant.now();
    private final Map<String, Agent> agents = new LinkedHashMap<>();
    private final AgentSchedule schedule;
    private final EventLog<AgentFrame> log;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final Starter starter;
    private final Slots slots;
    private final Outcome outcome;
    private final RunFrame[] rendered = new RunFrame[RENDERED_SLOTS];

    private boolean stopping;
    private String stopReason;
    private boolean ending;
    private RunStatus status = RunStatus.RUNNING;
    private Instant endedAt;
    private Runnable onTerminated = () -> { };

    /**
     * @param id             an unguessable id
     * @param agents         the run's agents, each after those it depends on ({@link Roster#select})
     * @param conversationId the conversation the run's messages are saved in
     * @param model          the model to ask, or {@code null} for the default
     * @param executor       runs the agents' feeds (CPU work that never blocks)
     * @param maxParallel    most agents of this run generating at once, at least 1
     * @param resumeGraceMs  how long the run goes on with no session following it, in ms
     */
    public AgentRun(String id, String owner, String task, List<AgentSpec> agents, String conversationId, String model,
                    Executor executor, ScheduledExecutorService scheduler, int maxParallel, long resumeGraceMs,
                    Starter starter, Slots slots, Outcome outcome) {
        this(id, owner, task, agents, conversationId, model, executor, scheduler, maxParallel,
                new MemoryEventLog<>(resumeGraceMs), starter, slots, outcome);
    }

    /**
     * A run whose frames go to {@code log} (empty; in a cluster, one copied to Redis, issue 10); the rest as above.
     */
    public AgentRun(String id, String owner, String task, List<AgentSpec> agents, String conversationId, String model,
                    Executor executor, ScheduledExecutorService scheduler, int maxParallel, EventLog<AgentFrame> log,
                    Starter starter, Slots slots, Outcome outcome) {
        this.id = id;
        this.owner = owner;
        this.task = task;
        this.conversationId = conversationId;
        this.model = model;
        for (AgentSpec spec : agents) {
            this.agents.put(spec.name(), new Agent(spec));
        }
        this.schedule = new AgentSchedule(agents, maxParallel);
        this.log = log;
        this.executor = executor;
        this.scheduler = scheduler;
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
        List<Agent> launch;
        synchronized (this) {
            this.onTerminated = onTerminated;
            Map<String, List<String>> dependsOn = new LinkedHashMap<>();
            for (Agent agent : agents.values()) {
                dependsOn.put(agent.spec.name(), agent.spec.dependsOn());
            }
            log.append(new AgentFrame.RunStarted(task, List.copyOf(agents.keySet()), dependsOn, conversationId));
            launch = afterChange();
        }
        acquire(launch);
        armGrace(log.graceLeftMillis());
    }

    /**
     * Stops one agent, or the whole run when {@code agent} is {@code null}: running generations are cancelled at once
     * (their text saved as {@code stopped} for a user's stop, else {@code partial}), waiting agents end without
     * starting. Does nothing for an agent or run that already ended.
     *
     * @param reason {@code user}, {@code client_disconnected} or {@code server_shutdown}
     * @throws IllegalArgumentException when the run has no agent of that name
     */
    @Override
    public void stop(String agent, String reason) {
        MessageStatus messageStatus = Reason.USER.wire().equals(reason) ? MessageStatus.STOPPED : MessageStatus.PARTIAL;
        List<Agent> toCancel = new ArrayList<>();
        List<Agent> launch;
        synchronized (this) {
            List<Agent> targets;
            if (agent == null) {
                if (stopping || ending) {
                    return;
                }
                stopping = true;
                stopReason = reason;
                targets = List.copyOf(agents.values());
            } else {
                targets = List.of(find(agent));
            }
            for (Agent a : targets) {
                AgentStatus s = schedule.status(a.spec.name());
                if (s == AgentStatus.WAITING) {
                    setStatus(a, AgentStatus.STOPPED);
                } else if (s == AgentStatus.RUNNING) {
                    a.stopReason = reason;
                    a.stopStatus = messageStatus;
                    if (a.stream != null) {
                        toCancel.add(a);
                    }
                }
            }
            launch = afterChange();
        }
        acquire(launch);
        for (Agent a : toCancel) {
            a.stream.stop(reason, messageStatus);
        }
    }

    // --- sessions

    /** A session follows the run from now; counts as the owner's attention for the resume grace. */
    @Override
    public void follow(io.sluice.streams.control.Follower follower) {
        log.follow(follower);
    }

    /** A session no longer follows the run; with none left, the resume grace starts now. */
    @Override
    public void unfollow(io.sluice.streams.control.Follower follower) {
        log.unfollow(follower);
    }

    /** The owner attended from another node (a session there follows it; issue 10): the resume grace restarts. */
    public void attended() {
        log.attended();
    }

    /** Number of sessions following the run. */
    public int followerCount() {
        return log.followerCount();
    }

    // --- reading

    /**
     * The frames after sequence {@code after}, at most {@code max}, rendered (once for all readers at that sequence).
     *
     * @param after the last sequence the reader has (0 for all)
     */
    @Override
    public List<RunFrame> framesAfter(long after, int max) {
        List<EventLog.Logged<AgentFrame>> logged = log.after(after, max);
        List<RunFrame> frames = new ArrayList<>(logged.size());
        for (EventLog.Logged<AgentFrame> l : logged) {
            int slot = (int) (l.id() % RENDERED_SLOTS);
            RunFrame cached = rendered[slot]; // a benign race: RunFrame is immutable
            if (cached == null || cached.sequence() != l.id()) {
                cached = new RunFrame(l.id(), AgentFrames.render(id, l.id(), l.entry()));
                rendered[slot] = cached;
            }
            frames.add(cached);
        }
        return frames;
    }

    /** Sequence of the last frame (0 when none). */
    @Override
    public long lastSequence() {
        return log.lastId();
    }

    /** Whether {@code run_complete} is in the log. */
    @Override
    public boolean terminated() {
        return log.terminated();
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
        for (Agent a : agents.values()) {
            states.add(new AgentState(a.spec.name(), schedule.status(a.spec.name()),
                    a.stream == null ? null : a.stream.id(), a.code));
        }
        return states;
    }

    /** Whether the run has an agent of that name. */
    @Override
    public boolean hasAgent(String name) {
        return agents.containsKey(name);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
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

    /** Why the run was stopped ({@code user}, {@code client_disconnected}, ...), or {@code null}. */
    public synchronized String stopReason() {
        return stopReason;
    }

    // --- inside

    private Agent find(String name) {
        Agent a = agents.get(name);
        if (a == null) {
            throw new IllegalArgumentException("the run has no agent named " + name);
        }
        return a;
    }

    /**
     * After every change, with the lock held: ends the agents whose dependencies failed, picks the agents to launch
     * (returned: the caller asks for their owner slots off the lock), and completes the run when all have ended.
     */
    private List<Agent> afterChange() {
        List<Agent> launch = new ArrayList<>();
        if (!stopping) {
            AgentSchedule.Step step = schedule.step();
            for (AgentSpec failed : step.failed()) {
                Agent a = agents.get(failed.name());
                a.code = "DEPENDENCY_FAILED";
                a.error = "an agent it depends on failed";
                log.append(new AgentFrame.Status(a.spec.name(), AgentStatus.ERROR, a.code, a.error));
            }
            for (AgentSpec spec : step.launch()) {
                launch.add(agents.get(spec.name()));
            }
        }
        if (!ending && schedule.allEnded()) {
            ending = true;
            status = stopping ? RunStatus.STOPPED
                    : schedule.all(AgentStatus.COMPLETED) ? RunStatus.COMPLETED
                    : schedule.all(AgentStatus.ERROR) ? RunStatus.ERROR
                    : RunStatus.PARTIAL;
            try {
                executor.execute(this::recordAndTerminate);
            } catch (java.util.concurrent.RejectedExecutionException full) {
                // the work pool's queue is full (SLUICE_QUEUE_MAX): the run's end must still be recorded, and not
                // here, under the run's lock; the container's timer pool (its queue is not bounded) takes it
                scheduler.execute(this::recordAndTerminate);
            }
        }
        return launch;
    }

    private void acquire(List<Agent> launch) {
        for (Agent a : launch) {
            slots.acquire(() -> launch(a));
        }
    }

    /** Runs when the owner's slot is granted: starts the agent's stream, unless it was stopped meanwhile. */
    private void launch(Agent a) {
        CompletionRequest request;
        synchronized (this) {
            if (schedule.status(a.spec.name()) != AgentStatus.WAITING) {
                slots.release(); // stopped while it waited for the slot
                return;
            }
            a.holdsOwnerSlot = true;
            List<AgentPrompts.Input> inputs = new ArrayList<>();
            for (String dep : a.spec.dependsOn()) {
                Agent d = agents.get(dep);
                inputs.add(new AgentPrompts.Input(dep, d.stream == null ? "" : d.stream.content()));
            }
            request = AgentPrompts.request(model, a.spec, task, inputs);
            schedule.started(a.spec.name());
            log.append(new AgentFrame.Status(a.spec.name(), AgentStatus.RUNNING, null, null));
        }
        Stream stream;
        try {
            stream = starter.start(this, a.spec, request);
        } catch (RuntimeException e) {
            boolean busy = e instanceof ProblemException p && (p.status() == 429 || p.status() == 503);
            if (!busy) {
                LOG.log(Level.SEVERE, "run " + id + ": agent " + a.spec.name() + " could not start", e);
            }
            agentEnded(a, AgentStatus.ERROR, busy ? "TOO_MANY_STREAMS" : "INTERNAL_ERROR",
                    busy ? e.getMessage() : "the agent could not start");
            return;
        }
        String cancel;
        MessageStatus cancelStatus;
        synchronized (this) {
            a.stream = stream;
            cancel = a.stopReason;
            cancelStatus = a.stopStatus;
        }
        stream.follow(new Feed(a, stream));
        if (cancel != null) {
            stream.stop(cancel, cancelStatus);
        }
    }

    private void output(Agent a, boolean reasoning, String text) {
        if (text.isEmpty()) {
            return;
        }
        synchronized (this) {
            log.append(new AgentFrame.Output(a.spec.name(), reasoning, text));
        }
    }

    /** The agent's stream ended: its status and error come from the typed end, not from rendered JSON. */
    private void ended(Agent a, Stream.End end) {
        if (end.status() == StreamStatus.COMPLETED) {
            agentEnded(a, AgentStatus.COMPLETED, null, null);
        } else if (end.status() == StreamStatus.STOPPED) {
            agentEnded(a, AgentStatus.STOPPED, null, null);
        } else {
            agentEnded(a, AgentStatus.ERROR, end.failure() != null ? end.failure().code().name() : "UPSTREAM_ERROR",
                    end.failure() != null ? end.failure().getMessage() : "the agent's generation failed");
        }
    }

    private void agentEnded(Agent a, AgentStatus how, String code, String error) {
        boolean release;
        List<Agent> launch;
        synchronized (this) {
            if (schedule.status(a.spec.name()).ended()) {
                return;
            }
            a.code = code;
            a.error = error;
            release = a.holdsOwnerSlot;
            a.holdsOwnerSlot = false;
            setStatus(a, how);
            launch = afterChange();
        }
        if (release) {
            slots.release();
        }
        acquire(launch);
    }

    private void setStatus(Agent a, AgentStatus s) {
        schedule.ended(a.spec.name(), s);
        log.append(new AgentFrame.Status(a.spec.name(), s, s == AgentStatus.ERROR ? a.code : null,
                s == AgentStatus.ERROR ? a.error : null));
    }

    private void recordAndTerminate() {
        CompletionStage<?> recorded;
        try {
            recorded = outcome.ended(this);
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "run " + id + ": its end could not be recorded", e);
            terminate();
            return;
        }
        recorded.whenComplete((ok, failure) -> {
            if (failure != null) {
                LOG.log(Level.SEVERE, "run " + id + ": its end could not be recorded", failure);
            }
            terminate();
        });
    }

    private void terminate() {
        RunStatus how;
        Runnable told;
        synchronized (this) {
            endedAt = Instant.now();
            how = status;
            told = onTerminated;
        }
        log.terminate(new AgentFrame.Complete(how));
        told.run();
    }

    private void armGrace(long delayMillis) {
        scheduler.schedule(this::checkGrace, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void checkGrace() {
        synchronized (this) {
            if (ending || stopping) {
                return;
            }
            long left = log.graceLeftMillis();
            if (left > 0) {
                armGrace(left);
                return;
            }
        }
        stop(null, Reason.CLIENT_DISCONNECTED.wire());
    }
}
