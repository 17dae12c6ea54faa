package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.Message;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.chat.control.Answers;
import io.sluice.streams.control.Control;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.LogCopy;
import io.sluice.streams.control.GroupCommit;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.OwnerQuota;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamSpec;
import io.sluice.streams.control.StreamTransport;
import io.sluice.streams.control.StreamType;
import io.sluice.platform.control.ShutdownSignal;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The multi-agent runs of this node (API.md section 5): starts them, finds them for their owner, and keeps ended
 * ones replayable for the stream retention period ({@code SLUICE_STREAM_RETENTION_SECONDS}).
 *
 * <p>Caps: an owner runs at most {@code SLUICE_AGENTS_MAX_RUNS_PER_OWNER} runs at once (default 4), a run has at
 * most {@code SLUICE_AGENTS_MAX_PER_RUN} agents (8), at most {@code SLUICE_AGENTS_MAX_PARALLEL} of a run generate
 * at once (3), and at most {@code SLUICE_AGENTS_MAX_PER_OWNER} of an owner across their runs (6); agents over the
 * last two caps wait for a slot. Each agent is a stream of the {@link StreamHub} (type {@code agent}), so the
 * hub's caps apply too.
 */
@ApplicationScoped
public class AgentRuns {

    private static final Logger LOG = Logger.getLogger(AgentRuns.class.getName());

    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    StreamHub hub;
    @Inject
    Providers providers;
    @Inject
    AgentStore store;
    @Inject
    GroupCommit commits;
    @Inject
    StreamTransport transport;

    private final ConcurrentHashMap<String, AgentRun> runs = new ConcurrentHashMap<>();
    /** Running runs per owner ({@code SLUICE_AGENTS_MAX_RUNS_PER_OWNER}), on this node. */
    private final OwnerQuota runsPerOwner = new OwnerQuota(() -> config.agentRunsPerOwner());
    private final AtomicInteger running = new AtomicInteger();
    private final ConcurrentHashMap<String, OwnerSlots> slots = new ConcurrentHashMap<>();
    private volatile Roster roster;

    /**
     * The roster runs choose from: {@code SLUICE_AGENTS_ROSTER}, or the built-in one.
     *
     * @throws IllegalStateException when {@code SLUICE_AGENTS_ROSTER} is not a valid roster
     */
    public Roster roster() {
        Roster r = roster;
        if (r == null) {
            r = config.agentsRoster().map(AgentRuns::parseRoster).orElse(Roster.defaults());
            roster = r;
        }
        return r;
    }

    private static Roster parseRoster(String json) {
        try (JsonReader reader = JSON.createReader(new StringReader(json))) {
            return Roster.parse(reader.readValue());
        } catch (RosterException | jakarta.json.JsonException e) {
            throw new IllegalStateException("SLUICE_AGENTS_ROSTER is not a valid roster: " + e.getMessage(), e);
        }
    }

    /**
     * Starts a run: validates the selection, saves the task and the run's record, and starts the agents that
     * depend on none.
     *
     * @param task   the task, already checked to be non-blank
     * @param agents the {@code agents} of the {@code run} frame, or {@code null} for the whole roster
     * @param model  the model to ask, or {@code null} for the default
     * @throws AgentException {@code INVALID_ROSTER}, {@code UNKNOWN_MODEL} (the run's or an agent's model names no
     *                        route, API.md section 10), {@code TOO_MANY_RUNS} or {@code TOO_MANY_STREAMS};
     *                        nothing is saved then
     */
    public AgentRun start(String owner, String task, JsonValue agents, String model) {
        List<AgentSpec> specs;
        try {
            specs = roster().select(agents, config.agentsMaxPerRun());
        } catch (RosterException e) {
            throw new AgentException("INVALID_ROSTER", e.getMessage(), null);
        }
        try {
            hub.ensureRoomFor(owner);
        } catch (ProblemException e) {
            throw new AgentException("TOO_MANY_STREAMS", e.getMessage(), null);
        }
        String effectiveModel;
        try {
            effectiveModel = providers.resolve(model, StreamType.AGENT).model();
            for (AgentSpec spec : specs) {
                if (spec.model() != null) {
                    providers.resolve(spec.model(), StreamType.AGENT);
                }
            }
        } catch (ProblemException e) {
            throw new AgentException("UNKNOWN_MODEL", e.getMessage(), null);
        }
        String id = Ids.newId();
        List<String> names = specs.stream().map(AgentSpec::name).toList();
        AgentStore.RunStart saved;
        admit(owner);
        try {
            saved = store.begin(owner, id, task, names, effectiveModel);
        } catch (RuntimeException e) {
            release(owner);
            throw e;
        }
        OwnerSlots ownerSlots = slots.computeIfAbsent(owner, o -> new OwnerSlots());
        // in a cluster the typed frames are copied to Redis, so a session on another node renders the same ones
        EventLog<AgentFrame> frames = transport.replicated(new MemoryEventLog<>(config.resumeGraceMillis()), id,
                owner, Map.of("type", "run", "agents", String.join(",", names)), FrameCodec.FRAMES,
                new AgentFrame.Complete(AgentRun.RunStatus.PARTIAL));
        AgentRun run = new AgentRun(id, owner, task, specs, saved.conversationId(), effectiveModel, executors.work(),
                executors.timers(), config.agentsMaxParallel(), frames,
                (r, spec, request) -> startAgent(r, spec, request, saved.seqs().get(spec.name())),
                ownerSlots, this::recordEnd);
        runs.put(id, run);
        run.start(() -> terminated(run));
        return run;
    }

    /**
     * The owner's run.
     *
     * @throws AgentException {@code RUN_NOT_FOUND} for unknown ids and other owners' runs, {@code RUN_GONE} for the
     *                        owner's run that ended and left memory
     */
    public AgentRun require(String owner, String runId) {
        AgentRun run = runId == null ? null : runs.get(runId);
        if (run != null && run.owner().equals(owner)) {
            return run;
        }
        if (runId != null && store.find(owner, runId).isPresent()) {
            throw new AgentException("RUN_GONE", "the run has ended and is no longer replayable; its messages are "
                    + "in its conversation", runId);
        }
        throw new AgentException("RUN_NOT_FOUND", "run not found", runId);
    }

    /**
     * The owner's run, on this node or, in a cluster, on another one (then its frames read from Redis: a
     * {@link RunMirror}).
     *
     * @throws AgentException as {@link #require}; {@code RUN_NOT_FOUND} also while the cluster's Redis cannot be read
     */
    public RunFrames frames(String owner, String runId) {
        AgentRun local = runId == null ? null : runs.get(runId);
        if (local == null) {
            LogCopy<?> followed = transport.followed(runId);
            if (followed instanceof RunMirror mirror) {
                if (mirror.owner().equals(owner)) {
                    return mirror;
                }
            } else {
                Optional<Map<String, String>> meta;
                try {
                    meta = transport.meta(runId);
                } catch (ProblemException e) {
                    throw new AgentException("RUN_NOT_FOUND", "the run could not be read from the cluster; try again",
                            runId);
                }
                if (meta.isPresent() && "run".equals(meta.get().get("type"))
                        && owner.equals(meta.get().get("owner"))) {
                    Set<String> agents = Set.of(meta.get().getOrDefault("agents", "").split(","));
                    LogCopy<?> copy = transport.follow(runId, meta.get().get("node"),
                            new RunMirror(runId, owner, meta.get().get("node"), agents, transport,
                                    config.resumeGraceMillis()));
                    if (copy instanceof RunMirror mirror && mirror.lastSequence() > 0) {
                        return mirror;
                    }
                }
            }
        }
        return require(owner, runId);
    }

    /** In a cluster: stops and attention for this node's runs, sent from other nodes ({@link RunMirror}). */
    @PostConstruct
    void serveCluster() {
        transport.onControl(Control.StopRun.class, m -> {
            AgentRun run = runs.get(m.id());
            if (run != null && run.owner().equals(m.owner()) && (m.agent() == null || run.hasAgent(m.agent()))) {
                run.stop(m.agent(), m.reason());
            }
        });
        transport.onControl(Control.Attend.class, m -> {
            for (String id : m.ids()) {
                AgentRun run = runs.get(id);
                if (run != null) {
                    run.attended();
                }
            }
        });
    }

    /** The owner's runs held in memory (running and recently ended), newest first. */
    public List<AgentRun> list(String owner) {
        return runs.values().stream().filter(r -> r.owner().equals(owner))
                .sorted(Comparator.comparing(AgentRun::createdAt).reversed()).toList();
    }

    /** Runs running on this node. */
    public int runningCount() {
        return running.get();
    }

    private Stream startAgent(AgentRun run, AgentSpec spec, CompletionRequest asked, int seq) {
        Route route = providers.resolve(asked.model(), StreamType.AGENT); // a name or type of the run, or the agent's
        CompletionRequest request = asked.withModel(route.upstreamModel());
        String upstreamJson = request.toOpenAiJson().toString();
        var first = JSON.createObjectBuilder().add("runId", run.id()).add("agent", spec.name()).build();
        return hub.start(run.owner(),
                StreamSpec.of(Ids.newId(), StreamType.AGENT, run.id(), run.conversationId(), route),
                listener -> route.stream(request, listener), first,
                (stream, end) -> saveMessage(run, spec, seq, upstreamJson, stream, end));
    }

    private String saveMessage(AgentRun run, AgentSpec spec, int seq, String upstreamJson, Stream stream,
                               Stream.End end) {
        Message message = Answers.of(Ids.newId(), run.conversationId(), seq, stream.createdAt(), upstreamJson,
                stream, end);
        message.setAgent(spec.name());
        return store.saveAgentMessage(message) ? message.getId() : null;
    }

    private CompletionStage<?> recordEnd(AgentRun run) {
        String status = run.status().wire();
        String reason = run.stopReason();
        Instant endedAt = Instant.now();
        return commits.submit(() -> {
            store.ended(run.id(), status, reason, endedAt);
            return null;
        });
    }

    /**
     * Counts one more running run for the owner.
     *
     * @throws AgentException {@code TOO_MANY_RUNS} at the owner's cap
     */
    private void admit(String owner) {
        if (!runsPerOwner.tryOpen(owner)) {
            throw new AgentException("TOO_MANY_RUNS", "at most " + runsPerOwner.max() + " running agent runs per user",
                    null);
        }
        running.incrementAndGet();
    }

    private void release(String owner) {
        // an idle owner keeps no state; a run still draining holds its own reference
        runsPerOwner.close(owner, () -> slots.remove(owner));
        running.decrementAndGet();
    }

    private void terminated(AgentRun run) {
        release(run.owner());
        executors.timers().schedule(() -> runs.remove(run.id(), run), config.retentionMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Undeploy or SIGTERM, before any application bean is destroyed: running runs are stopped and their agents' text
     * saved as partial ({@code server_shutdown}); the hub then waits for their streams to be saved.
     */
    void beforeShutdown(@Observes @BeforeDestroyed(ApplicationScoped.class) Object event) {
        shutdown();
    }

    /** SIGTERM: the same, at once, before the hub saves the streams ({@link ShutdownSignal}). */
    void onStopping(@Observes @Priority(1000) ShutdownSignal.Stopping event) {
        shutdown();
    }

    /** Stops the running runs; idempotent. */
    @PreDestroy
    void shutdown() {
        for (AgentRun run : List.copyOf(runs.values())) {
            try {
                run.stop(null, Reason.SERVER_SHUTDOWN.wire());
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "stopping run " + run.id(), e);
            }
        }
    }

    /** An owner's agent slots: at most {@code SLUICE_AGENTS_MAX_PER_OWNER} agents generating at once. */
    private final class OwnerSlots implements AgentRun.Slots {
        private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        private int active;

        @Override
        public void acquire(Runnable granted) {
            boolean now;
            synchronized (this) {
                now = active < config.agentsMaxPerOwner();
                if (now) {
                    active++;
                } else {
                    waiting.add(granted);
                }
            }
            if (now) {
                grant(granted);
            }
        }

        @Override
        public void release() {
            Runnable next;
            synchronized (this) {
                next = waiting.poll();
                if (next == null) {
                    active--;
                }
            }
            if (next != null) {
                grant(next);
            }
        }

        /** Runs a granted agent's start on the work pool, or here when that pool's queue is full or it stops. */
        private void grant(Runnable granted) {
            try {
                executors.work().execute(granted);
            } catch (RejectedExecutionException full) {
                granted.run();
            }
        }
    }
}
