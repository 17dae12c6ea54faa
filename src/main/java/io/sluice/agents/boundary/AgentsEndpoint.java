package io.sluice.agents.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.agents.control.AgentException;
import io.sluice.agents.control.AgentRun;
import io.sluice.agents.control.AgentRuns;
import io.sluice.agents.control.AgentSession;
import io.sluice.agents.control.RunFrames;
import io.sluice.conversations.entity.Conversation;
import io.sluice.identity.control.Owners;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.Followers;
import io.sluice.platform.control.JsonInput;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.StreamObserver;
import jakarta.inject.Inject;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /ws/agents}: multi-agent output over WebSocket (API.md section 5), JSON text frames.
 *
 * <p>Client frames: {@code run} ({@code task}, optional {@code agents} and {@code model}), {@code resume}
 * ({@code runId}, {@code afterSequence}) and {@code stop} ({@code runId}, optional {@code agent}). A session follows
 * the runs it started or resumed. Bad input gets an {@code error} frame
 * {@code {"type":"error","code","error","runId"?}} and changes nothing; the session stays usable. Codes are those of
 * {@link AgentException}; frames over {@code SLUICE_REQUEST_MAX_BYTES} (UTF-8 bytes) get {@code FRAME_TOO_LARGE},
 * and frames over {@value #TRANSPORT_MAX_BYTES} bytes are refused by the container, which closes the session (1009).
 *
 * <p>Identity as for HTTP ({@link OwnerConfigurator}); someone else's run id is {@code RUN_NOT_FOUND}. Sessions are
 * registered with the {@link ConnectionGuard} under the tab's {@code clientId} query parameter: a second session of
 * the same tab replaces the first, they count toward {@code SLUICE_MAX_CONNECTIONS_PER_OWNER} (one more is closed
 * with 1008 after an {@code error} frame {@code TOO_MANY_CONNECTIONS}), and they are pinged every heartbeat.
 */
@ServerEndpoint(value = "/ws/agents", configurator = OwnerConfigurator.class)
public class AgentsEndpoint {

    private static final Logger LOG = Logger.getLogger(AgentsEndpoint.class.getName());
    /** Largest text message the container buffers, in bytes; beyond it the session is closed with 1009. */
    static final int TRANSPORT_MAX_BYTES = 1024 * 1024;
    /** Longest task, in UTF-16 code units. */
    static final int MAX_TASK = 16_000;

    @Inject
    AgentRuns runs;
    @Inject
    ConnectionGuard guard;
    @Inject
    ManagedExecutors executors;
    @Inject
    SluiceConfig config;
    @Inject
    StreamObserver metrics;

    private AgentSession agentSession;

    @OnOpen
    public void open(Session session) {
        session.setMaxTextMessageBufferSize(TRANSPORT_MAX_BYTES);
        if (Boolean.TRUE.equals(session.getUserProperties().get(OwnerConfigurator.CROSS_ORIGIN))) {
            closeNow(session, "cross-origin WebSocket handshakes are refused");
            return;
        }
        String owner = (String) session.getUserProperties().get(Owners.ATTRIBUTE);
        if (owner == null) {
            closeNow(session, "no identity");
            return;
        }
        List<String> ids = session.getRequestParameterMap().get("clientId");
        String clientId = ids == null || ids.isEmpty() || ids.get(0).isBlank() ? "anonymous-" + Ids.newId()
                : ids.get(0).strip();
        Object handshake = session.getUserProperties().get(OwnerConfigurator.HANDSHAKE_NANOS);
        AgentSession created = new AgentSession(owner, clientId, session, executors.writers(),
                config.heartbeat().toNanos(), handshake instanceof Long nanos ? nanos : Long.MIN_VALUE);
        if (clientId.length() > Followers.MAX_CLIENT_ID) {
            refuse(session, "BAD_FRAME", "clientId is longer than " + Followers.MAX_CLIENT_ID + " characters");
            return;
        }
        try {
            guard.open(owner, created);
        } catch (ProblemException e) {
            refuse(session, "TOO_MANY_CONNECTIONS", e.getMessage());
            return;
        }
        agentSession = created;
    }

    @OnMessage
    public void message(String text) {
        AgentSession session = agentSession;
        if (session == null) {
            return;
        }
        String runId = null;
        try {
            int max = config.maxRequestBytes();
            if (text.length() > max || text.getBytes(StandardCharsets.UTF_8).length > max) {
                throw new AgentException("FRAME_TOO_LARGE", "frames are limited to " + max + " bytes", null);
            }
            JsonObject frame = parse(text);
            runId = frame.get("runId") instanceof JsonString s ? s.getString() : null;
            String type = frame.get("type") instanceof JsonString s ? s.getString() : null;
            if (type == null) {
                throw new AgentException("BAD_FRAME", "type is required: run, resume or stop", runId);
            }
            switch (type) {
                case "run" -> run(session, frame);
                case "resume" -> resume(session, frame);
                case "stop" -> stop(session, frame);
                default -> throw new AgentException("UNKNOWN_TYPE",
                        "unknown frame type; expected run, resume or stop", runId);
            }
        } catch (AgentException e) {
            session.sendError(error(e.code(), e.getMessage(), e.runId() != null ? e.runId() : runId));
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "a /ws/agents frame failed", e);
            session.sendError(error("INTERNAL_ERROR", "the frame could not be handled", runId));
        }
    }

    @OnMessage
    public void pong(PongMessage pong) {
        AgentSession session = agentSession;
        if (session != null) {
            session.pong();
        }
    }

    @OnClose
    public void closed(Session session, CloseReason reason) {
        AgentSession s = agentSession;
        if (s != null) {
            s.clientGone();
        }
    }

    @OnError
    public void failed(Session session, Throwable failure) {
        LOG.log(Level.FINE, "a /ws/agents session failed", failure);
        AgentSession s = agentSession;
        if (s != null) {
            s.clientGone();
        }
    }

    private void run(AgentSession session, JsonObject frame) {
        String task = requiredString(frame, "task", null);
        if (task.isBlank() || task.length() > MAX_TASK) {
            throw new AgentException("BAD_FRAME", "task must be 1 to " + MAX_TASK + " characters", null);
        }
        String model = optionalString(frame, "model", null);
        if (model != null && (model.isBlank() || model.length() > Conversation.MAX_MODEL)) {
            throw new AgentException("BAD_FRAME", "model must be 1 to " + Conversation.MAX_MODEL + " characters",
                    null);
        }
        AgentRun run = runs.start(session.owner(), task, frame.get("agents"), model);
        session.follow(run, 0);
    }

    private void resume(AgentSession session, JsonObject frame) {
        String runId = requiredString(frame, "runId", null);
        long after = 0;
        JsonValue value = frame.get("afterSequence");
        if (value != null && value.getValueType() != JsonValue.ValueType.NULL) {
            if (!(value instanceof JsonNumber n) || !n.isIntegral() || n.longValue() < 0) {
                throw new AgentException("BAD_FRAME", "afterSequence must be a non-negative integer", runId);
            }
            after = n.longValue();
        }
        RunFrames run = runs.frames(session.owner(), runId);
        if (after > run.lastSequence()) {
            throw new AgentException("BAD_FRAME", "afterSequence is beyond the run's last sequence, "
                    + run.lastSequence(), runId);
        }
        metrics.resumed("websocket"); // metrics: resume (WebSocket)
        session.follow(run, after);
    }

    private void stop(AgentSession session, JsonObject frame) {
        String runId = requiredString(frame, "runId", null);
        String agent = optionalString(frame, "agent", runId);
        RunFrames run = runs.frames(session.owner(), runId);
        if (agent != null && !run.hasAgent(agent)) {
            throw new AgentException("AGENT_NOT_FOUND", "the run has no agent of that name", runId);
        }
        run.stop(agent, Reason.USER.wire());
    }

    private static JsonObject parse(String text) {
        String problem = JsonInput.problem(text);
        if (problem != null) {
            throw new AgentException("BAD_FRAME", problem, null);
        }
        try (JsonReader reader = JSON.createReader(new StringReader(text))) {
            JsonValue value = reader.readValue();
            if (!(value instanceof JsonObject object)) {
                throw new AgentException("BAD_FRAME", "a frame must be a JSON object", null);
            }
            return object;
        } catch (JsonException e) {
            throw new AgentException("BAD_FRAME", "the frame is not valid JSON", null);
        }
    }

    private static String requiredString(JsonObject frame, String key, String runId) {
        String value = optionalString(frame, key, runId);
        if (value == null) {
            throw new AgentException("BAD_FRAME", key + " is required", runId);
        }
        return value;
    }

    private static String optionalString(JsonObject frame, String key, String runId) {
        JsonValue value = frame.get(key);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (!(value instanceof JsonString s)) {
            throw new AgentException("BAD_FRAME", key + " must be a string", runId);
        }
        return s.getString();
    }

    /** An {@code error} frame (API.md section 5 extension, see the README). */
    static String error(String code, String message, String runId) {
        JsonObjectBuilder frame = JSON.createObjectBuilder().add("type", "error").add("code", code)
                .add("error", message);
        if (runId != null) {
            frame.add("runId", runId);
        }
        return frame.build().toString();
    }

    /** Sends an {@code error} frame, then closes with 1008; the session was never registered. */
    private static void refuse(Session session, String code, String message) {
        try {
            session.getBasicRemote().sendText(error(code, message, null));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(Level.FINE, "refusing a session", e);
        }
        closeNow(session, message);
    }

    private static void closeNow(Session session, String reason) {
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY,
                    reason.length() > 120 ? reason.substring(0, 120) : reason));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(Level.FINE, "closing a session", e);
        }
    }
}
