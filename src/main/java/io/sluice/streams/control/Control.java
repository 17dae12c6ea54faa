package io.sluice.streams.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.MessageStatus;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A control message from one node of a cluster to the node that generates a stream or runs a multi-agent run (issue
 * 10), one record per operation, with its one codec ({@link #encode}, {@link #decode}). On the wire (a Redis channel,
 * {@link ControlBus}) each is one JSON object named by {@code "op"}:
 * <ul>
 *   <li>{@link Stop}: {@code {"op":"stop","id","owner","reason","status"}};</li>
 *   <li>{@link Unload}: {@code {"op":"unload","id","owner","graceMillis"}};</li>
 *   <li>{@link Attend}: {@code {"op":"attend","ids":[...]}};</li>
 *   <li>{@link StopRun}: {@code {"op":"run_stop","id","owner","reason"[,"agent"]}};</li>
 *   <li>{@link TabOpened}, to every node: {@code {"op":"tab_opened","node","owner","target","clientId"}} (a node of an
 *       earlier version sends it without {@code "op"}, which is read the same).</li>
 * </ul>
 */
public sealed interface Control {

    /**
     * Stop a stream ({@link Stream#stop(String, MessageStatus)}).
     *
     * @param reason a {@link Reason}'s wire value, or what a client sent
     */
    record Stop(String id, String owner, String reason, MessageStatus status) implements Control {
    }

    /** The beacon abort of a stream on page unload ({@link Stream#abortOnUnload}), after {@code graceMillis} ms. */
    record Unload(String id, String owner, long graceMillis) implements Control {
    }

    /** The owner attends these streams or runs (followers on the sending node, a poll). */
    record Attend(List<String> ids) implements Control {

        /** @param ids copied */
        public Attend {
            ids = List.copyOf(ids);
        }
    }

    /**
     * Stop a multi-agent run, or one of its agents.
     *
     * @param agent the agent to stop, or {@code null} for the whole run
     */
    record StopRun(String id, String owner, String reason, String agent) implements Control {
    }

    /**
     * A node now holds the live connection of a tab ({@link ConnectionGuard}): every other node closes its connection
     * of the same tab (seed behaviour: one connection per tab, duplicates replaced).
     *
     * @param node the node that holds it
     */
    record TabOpened(String node, String owner, String target, String clientId) implements Control {
    }

    /** The message as JSON text. */
    static String encode(Control message) {
        JsonObjectBuilder b = JSON.createObjectBuilder();
        if (message instanceof Stop s) {
            b.add("op", "stop").add("id", s.id()).add("owner", s.owner()).add("reason", s.reason())
                    .add("status", s.status().name());
        } else if (message instanceof Unload u) {
            b.add("op", "unload").add("id", u.id()).add("owner", u.owner()).add("graceMillis", u.graceMillis());
        } else if (message instanceof Attend a) {
            JsonArrayBuilder ids = JSON.createArrayBuilder();
            a.ids().forEach(ids::add);
            b.add("op", "attend").add("ids", ids);
        } else if (message instanceof TabOpened t) {
            b.add("op", "tab_opened").add("node", t.node()).add("owner", t.owner()).add("target", t.target())
                    .add("clientId", t.clientId());
        } else {
            StopRun r = (StopRun) message;
            b.add("op", "run_stop").add("id", r.id()).add("owner", r.owner()).add("reason", r.reason());
            if (r.agent() != null) {
                b.add("agent", r.agent());
            }
        }
        return b.build().toString();
    }

    /**
     * The message that {@link #encode} wrote.
     *
     * @throws IllegalArgumentException when {@code text} is not JSON, names no known operation or lacks a member
     */
    static Control decode(String text) {
        JsonObject m;
        try {
            m = JSON.createReader(new StringReader(text)).readObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("a control message that is not JSON", e);
        }
        try {
            String op = m.getString("op", m.containsKey("clientId") ? "tab_opened" : "");
            return switch (op) {
                case "stop" -> new Stop(m.getString("id"), m.getString("owner"), m.getString("reason"),
                        MessageStatus.valueOf(m.getString("status")));
                case "unload" -> new Unload(m.getString("id"), m.getString("owner"),
                        ((JsonNumber) m.get("graceMillis")).longValue());
                case "attend" -> {
                    List<String> ids = new ArrayList<>();
                    for (JsonValue v : m.getJsonArray("ids")) {
                        if (v instanceof JsonString id) {
                            ids.add(id.getString());
                        }
                    }
                    yield new Attend(ids);
                }
                case "run_stop" -> new StopRun(m.getString("id"), m.getString("owner"),
                        m.getString("reason", Reason.USER.wire()), m.getString("agent", null));
                case "tab_opened" -> new TabOpened(m.getString("node"), m.getString("owner"), m.getString("target"),
                        m.getString("clientId"));
                default -> throw new IllegalArgumentException("an unknown control operation: " + op);
            };
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("a control message without a member it needs", e);
        }
    }
}
