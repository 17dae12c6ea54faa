package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.JsonText;
import jakarta.json.JsonObjectBuilder;
import java.util.List;
import java.util.Map;

/**
 * The WebSocket edge of a run's log: renders {@link AgentFrame}s as the JSON text frames of API.md section 5, each
 * with {@code type}, {@code runId} and {@code sequence}. {@code agent_output}, the frame sent per delta, is written by
 * hand in one pass ({@link JsonText}); the others with JSON-P.
 */
public final class AgentFrames {

    private AgentFrames() {
    }

    /** The frame's JSON text. */
    public static String render(String runId, long sequence, AgentFrame frame) {
        if (frame instanceof AgentFrame.Output o) {
            StringBuilder json = new StringBuilder(o.text().length() + 120).append("{\"type\":\"agent_output\",\"runId\":");
            JsonText.quote(json, runId).append(",\"agent\":");
            JsonText.quote(json, o.agent()).append(o.reasoning() ? ",\"reasoning\":" : ",\"content\":");
            JsonText.quote(json, o.text());
            return json.append(",\"sequence\":").append(sequence).append('}').toString();
        }
        JsonObjectBuilder json;
        if (frame instanceof AgentFrame.Status s) {
            json = start("agent_status", runId).add("agent", s.agent()).add("status", s.status().wire());
            if (s.code() != null) {
                json.add("code", s.code()).add("error", s.error());
            }
        } else if (frame instanceof AgentFrame.RunStarted r) {
            json = start("run_started", runId).add("task", r.task()).add("agents", JSON.createArrayBuilder(r.agents()))
                    .add("dependsOn", dependsOn(r)).add("conversationId", r.conversationId());
        } else {
            json = start("run_complete", runId).add("status", ((AgentFrame.Complete) frame).status().wire());
        }
        return json.add("sequence", sequence).build().toString();
    }

    /**
     * A run's dependencies as JSON, {@code {"agent":["agent it reads", ...], ...}}: the {@code dependsOn} of
     * {@code run_started} here and of the replicated frame ({@link FrameCodec}).
     */
    static JsonObjectBuilder dependsOn(AgentFrame.RunStarted r) {
        JsonObjectBuilder dependsOn = JSON.createObjectBuilder();
        for (Map.Entry<String, List<String>> e : r.dependsOn().entrySet()) {
            dependsOn.add(e.getKey(), JSON.createArrayBuilder(e.getValue()));
        }
        return dependsOn;
    }

    private static JsonObjectBuilder start(String type, String runId) {
        return JSON.createObjectBuilder().add("type", type).add("runId", runId);
    }
}
