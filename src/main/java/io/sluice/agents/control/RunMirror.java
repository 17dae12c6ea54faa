package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.Follower;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.StreamCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A multi-agent run of another node of a cluster, followed on this one (issue 10): its frames, as the running node
 * rendered them (the JSON text frames of API.md section 5, sequence included), are read from Redis in sequence
 * order, so a session here resumes with {@code afterSequence} and goes on live with no gap. A {@code stop} goes to
 * the running node, which stops the run or one agent and cancels its upstream requests; the sessions here tell it
 * that the owner is still there, for its resume grace.
 *
 * <p>If Redis loses the frames (a restart without persistence), the sessions here get a {@code run_complete}
 * {@code partial}; the run goes on on its node.
 */
public final class RunMirror implements RunFrames, StreamCluster.Copy {

    private final String id;
    private final String owner;
    private final String node;
    private final Set<String> agents;
    private final StreamCluster cluster;
    private final EventLog<String> frames;

    /**
     * @param node   the running node
     * @param agents the run's agent names
     * @param graceMillis the resume grace period, in ms (kept for the log's contract; the running node decides)
     */
    public RunMirror(String id, String owner, String node, Set<String> agents, StreamCluster cluster,
                     long graceMillis) {
        this.id = id;
        this.owner = owner;
        this.node = node;
        this.agents = Set.copyOf(agents);
        this.cluster = cluster;
        this.frames = new MemoryEventLog<>(graceMillis);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String owner() {
        return owner;
    }

    @Override
    public List<AgentRun.RunFrame> framesAfter(long after, int max) {
        List<EventLog.Logged<String>> logged = frames.after(after, max);
        List<AgentRun.RunFrame> out = new ArrayList<>(logged.size());
        for (EventLog.Logged<String> l : logged) {
            out.add(new AgentRun.RunFrame(l.id(), l.entry()));
        }
        return out;
    }

    @Override
    public long lastSequence() {
        return frames.lastId();
    }

    @Override
    public boolean terminated() {
        return frames.terminated();
    }

    @Override
    public void follow(Follower follower) {
        frames.follow(follower);
        cluster.send(node, JSON.createObjectBuilder().add("op", "attend").add("ids", JSON.createArrayBuilder().add(id))
                .build());
    }

    @Override
    public void unfollow(Follower follower) {
        frames.unfollow(follower);
    }

    @Override
    public boolean hasAgent(String name) {
        return agents.contains(name);
    }

    @Override
    public void stop(String agent, String reason) {
        var message = JSON.createObjectBuilder().add("op", AgentRuns.STOP_OP).add("id", id).add("owner", owner)
                .add("reason", reason);
        if (agent != null) {
            message.add("agent", agent);
        }
        cluster.send(node, message.build());
    }

    // --- StreamCluster.Copy

    @Override
    public long lastId() {
        return frames.lastId();
    }

    @Override
    public boolean ended() {
        return frames.terminated();
    }

    /** The next frame's JSON text; {@code run_complete} is the last. */
    @Override
    public void apply(String value) {
        if (value == null || !value.startsWith("{")) {
            throw new IllegalArgumentException("not a frame");
        }
        if (value.startsWith("{\"type\":\"run_complete\"")) {
            frames.terminate(value);
        } else {
            frames.append(value);
        }
    }

    /**
     * The frames cannot be followed on from here (Redis lost them): the sessions here get a {@code run_complete}
     * {@code partial} at the next sequence, so none waits forever; the run itself goes on on its node.
     */
    @Override
    public void lost(String why) {
        synchronized (frames) {
            if (!frames.terminated()) {
                frames.terminate(AgentFrames.render(id, frames.lastId() + 1,
                        new AgentFrame.Complete(AgentRun.RunStatus.PARTIAL)));
            }
        }
    }

    @Override
    public int followerCount() {
        return frames.followerCount();
    }
}
