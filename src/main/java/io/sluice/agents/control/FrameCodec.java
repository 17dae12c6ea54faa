package io.sluice.agents.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.JsonText;
import io.sluice.streams.control.LogCodec;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's {@link AgentFrame} as one compact JSON object, the text of its entry in the cluster's store (issue 10;
 * {@link LogCodec}, as a stream's entries are written): what the running node appends, another node reads back equal
 * and renders with the entry's id as the frame's {@code sequence} ({@link AgentFrames}). Shapes:
 * <ul>
 *   <li>{@code RunStarted}: {@code {"t":"s","task","agents":[...],"dependsOn":{name:[...]},"conversationId"}};</li>
 *   <li>{@code Status}: {@code {"t":"a","agent","status"[,"code","error"]}};</li>
 *   <li>{@code Output}: {@code {"t":"o","agent","r":reasoning,"x":text}};</li>
 *   <li>{@code Complete}: {@code {"t":"c","status"}} (the last entry).</li>
 * </ul>
 * Statuses are their wire values.
 */
public final class FrameCodec implements LogCodec<AgentFrame> {

    /** The codec of every run's frames. */
    public static final FrameCodec FRAMES = new FrameCodec();

    private FrameCodec() {
    }

    @Override
    public String encode(AgentFrame frame) {
        if (frame instanceof AgentFrame.Output o) {
            StringBuilder json = new StringBuilder(o.text().length() + 64).append("{\"t\":\"o\",\"agent\":");
            JsonText.quote(json, o.agent()).append(",\"r\":").append(o.reasoning()).append(",\"x\":");
            return JsonText.quote(json, o.text()).append('}').toString();
        }
        JsonObjectBuilder json = JSON.createObjectBuilder();
        if (frame instanceof AgentFrame.Status s) {
            json.add("t", "a").add("agent", s.agent()).add("status", s.status().wire());
            if (s.code() != null) {
                json.add("code", s.code()).add("error", s.error());
            }
        } else if (frame instanceof AgentFrame.RunStarted r) {
            json.add("t", "s").add("task", r.task()).add("agents", JSON.createArrayBuilder(r.agents()))
                    .add("dependsOn", AgentFrames.dependsOn(r)).add("conversationId", r.conversationId());
        } else {
            json.add("t", "c").add("status", ((AgentFrame.Complete) frame).status().wire());
        }
        return json.build().toString();
    }

    @Override
    public AgentFrame decode(String text) {
        JsonObject o;
        try {
            o = JSON.createReader(new StringReader(text)).readObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a frame", e);
        }
        try {
            return switch (o.getString("t")) {
                case "o" -> new AgentFrame.Output(o.getString("agent"), o.getBoolean("r"), o.getString("x"));
                case "a" -> new AgentFrame.Status(o.getString("agent"),
                        AgentRun.AgentStatus.valueOf(o.getString("status").toUpperCase(Locale.ROOT)),
                        o.getString("code", null), o.getString("error", null));
                case "s" -> {
                    Map<String, List<String>> dependsOn = new LinkedHashMap<>();
                    for (Map.Entry<String, JsonValue> e : o.getJsonObject("dependsOn").entrySet()) {
                        dependsOn.put(e.getKey(), names(e.getValue().asJsonArray()));
                    }
                    yield new AgentFrame.RunStarted(o.getString("task"), names(o.getJsonArray("agents")), dependsOn,
                            o.getString("conversationId"));
                }
                case "c" -> new AgentFrame.Complete(
                        AgentRun.RunStatus.valueOf(o.getString("status").toUpperCase(Locale.ROOT)));
                default -> throw new IllegalArgumentException("unknown frame type " + o.getString("t"));
            };
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("not a frame", e);
        }
    }

    /** {@code run_complete} is a run's last frame. */
    @Override
    public boolean last(AgentFrame frame) {
        return frame instanceof AgentFrame.Complete;
    }

    private static List<String> names(List<JsonValue> values) {
        List<String> out = new ArrayList<>(values.size());
        for (JsonValue v : values) {
            out.add(((JsonString) v).getString());
        }
        return out;
    }
}
