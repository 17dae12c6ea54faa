package io.sluice.agents.control;

import io.sluice.streams.control.Follower;
import java.util.List;

/**
 * What a WebSocket session reads of a multi-agent run (API.md section 5): its frames by sequence, live, and its
 * stop. The run itself ({@link AgentRun}) on the node that runs it; a {@link RunMirror} on another node of a
 * cluster (issue 10), whose frames come from Redis and whose stop goes to the running node.
 */
public interface RunFrames {

    /** The run's id. */
    String id();

    /** Its owner. */
    String owner();

    /**
     * The frames after sequence {@code after}, at most {@code max}, rendered.
     *
     * @param after the last sequence the reader has (0 for all)
     */
    List<AgentRun.RunFrame> framesAfter(long after, int max);

    /** Sequence of the last frame (0 when none). */
    long lastSequence();

    /** Whether {@code run_complete} is in. */
    boolean terminated();

    /** A session follows the run from now; counts as the owner's attention for the resume grace. */
    void follow(Follower follower);

    /** A session no longer follows the run. */
    void unfollow(Follower follower);

    /** Whether the run has an agent of that name. */
    boolean hasAgent(String name);

    /**
     * Stops one agent, or the whole run when {@code agent} is {@code null}.
     *
     * @param reason {@code user}, {@code client_disconnected} or {@code server_shutdown}
     */
    void stop(String agent, String reason);
}
