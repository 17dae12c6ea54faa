package io.sluice.agents.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.streams.control.Follower;
import io.sluice.streams.control.LocalTransport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A run's frames as the cluster's store holds them (issue 10): typed, read back equal, the sequence kept beside each
 * frame; a run followed from another node renders what the running node renders.
 */
class FrameCodecTest {

    private static final List<AgentFrame> FRAMES = List.of(
            new AgentFrame.RunStarted("a \"task\"\n🌍", List.of("researcher", "writer"),
                    Map.of("researcher", List.of(), "writer", List.of("researcher")), "c-1"),
            new AgentFrame.Status("researcher", AgentRun.AgentStatus.RUNNING, null, null),
            new AgentFrame.Output("researcher", false, "héllo \u2028 \"x\""),
            new AgentFrame.Output("researcher", true, "why"),
            new AgentFrame.Status("writer", AgentRun.AgentStatus.ERROR, "RATE_LIMITED", "slow down"),
            new AgentFrame.Complete(AgentRun.RunStatus.PARTIAL));

    @Test
    void everyFrameReadsBackEqual() {
        for (AgentFrame frame : FRAMES) {
            assertEquals(frame, FrameCodec.FRAMES.decode(FrameCodec.FRAMES.encode(frame)));
        }
        assertTrue(FrameCodec.FRAMES.last(new AgentFrame.Complete(AgentRun.RunStatus.COMPLETED)));
        assertFalse(FrameCodec.FRAMES.last(FRAMES.get(2)));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.FRAMES.decode("{\"t\":\"x\"}"));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.FRAMES.decode("not json"));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.FRAMES.decode("{\"t\":\"c\",\"status\":\"odd\"}"));
    }

    @Test
    void aMirrorRendersTheFramesOfTheRunningNodeAndEndsAtRunComplete() {
        RunMirror mirror = new RunMirror("r-1", "anon:me", "node-2", Set.of("researcher", "writer"),
                new LocalTransport(), 60_000);
        Follower nobody = () -> { };
        mirror.follow(nobody);
        for (AgentFrame frame : FRAMES) {
            assertFalse(mirror.ended());
            mirror.apply(FrameCodec.FRAMES.decode(FrameCodec.FRAMES.encode(frame)));
        }
        assertTrue(mirror.terminated());
        List<AgentRun.RunFrame> rendered = mirror.framesAfter(0, 100);
        assertEquals(FRAMES.size(), rendered.size());
        for (int i = 0; i < FRAMES.size(); i++) {
            assertEquals(AgentFrames.render("r-1", i + 1, FRAMES.get(i)), rendered.get(i).json());
        }
        assertEquals("{\"type\":\"run_complete\",\"runId\":\"r-1\",\"status\":\"partial\",\"sequence\":6}",
                rendered.get(5).json());
    }
}
