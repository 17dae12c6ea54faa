package io.sluice.agents.control;

import io.sluice.streams.control.Control;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.Follower;
import io.sluice.streams.control.LogCodec;
import io.sluice.streams.control.LogCopy;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.StreamTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A multi-agent run of another node of a cluster, followed on this one (issue 10): its typed frames are read from
 * the cluster's store in sequence order ({@link FrameCodec}) and rendered here as the running node renders them, so a
 * session here resumes with {@code afterSequence} and goes on live with no gap. A {@code stop} goes to the running
 * node ({@link Control.StopRun}), which stops the run or one agent and cancels its upstream requests; the sessions here
 * tell it that the owner is still there ({@link Control.Attend}), for its resume grace.
 *
 * <p>If the store loses the frames (a Redis restart without persistence), the sessions here get a {@code run_complete}
 * {@code partial}; the run goes on on its node.
 */
public final class RunMirror implements RunFrames, LogCopy<AgentFrame> {

    /** Rendered frames kept for sessions at the same position: 4 slots, by sequence. */
    private static final int RENDERED_SLOTS = 4;

    private final String id;
    private final String owner;
    private final String node;
    private final Set<String> agents;
    private final StreamTransport transport;
    private final EventLog<AgentFrame> frames;
    private final AgentRun.RunFrame[] rendered = new AgentRun.RunFrame[RENDERED_SLOTS];

    /**
     * @param node        the running node
     * @param agents      the run's agent names
     * @param graceMillis the resume grace period, in ms (kept for the log's contract; the running node decides)
     */
    public RunMirror(String id, String owner, String node, Set<String> agents, StreamTransport transport,
                     long graceMillis) {
        this.id = id;
        this.owner = owner;
        this.node = node;
        this.agents = Set.copyOf(agents);
        this.transport = transport;
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
        List<EventLog.Logged<AgentFrame>> logged = frames.after(after, max);
        List<AgentRun.RunFrame> out = new ArrayList<>(logged.size());
        for (EventLog.Logged<AgentFrame> l : logged) {
            int slot = (int) (l.id() % RENDERED_SLOTS);
            AgentRun.RunFrame cached = rendered[slot]; // a benign race: RunFrame is immutable
            if (cached == null || cached.sequence() != l.id()) {
                cached = new AgentRun.RunFrame(l.id(), AgentFrames.render(id, l.id(), l.entry()));
                rendered[slot] = cached;
            }
            out.add(cached);
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
        transport.send(node, new Control.Attend(List.of(id)));
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
        transport.send(node, new Control.StopRun(id, owner, reason, agent));
    }

    // --- LogCopy

    @Override
    public LogCodec<AgentFrame> codec() {
        return FrameCodec.FRAMES;
    }

    @Override
    public long lastId() {
        return frames.lastId();
    }

    @Override
    public boolean ended() {
        return frames.terminated();
    }

    /** The next frame; {@code run_complete} is the last. */
    @Override
    public void apply(AgentFrame frame) {
        if (FrameCodec.FRAMES.last(frame)) {
            frames.terminate(frame);
        } else {
            frames.append(frame);
        }
    }

    /**
     * The frames cannot be followed on from here (the store lost them): the sessions here get a {@code run_complete}
     * {@code partial} at the next sequence, so none waits forever; the run itself goes on on its node.
     */
    @Override
    public void lost(String why) {
        synchronized (frames) {
            if (!frames.terminated()) {
                frames.terminate(new AgentFrame.Complete(AgentRun.RunStatus.PARTIAL));
            }
        }
    }

    @Override
    public int followerCount() {
        return frames.followerCount();
    }
}
