package io.sluice.streams.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.StreamHub;
import io.sluice.agents.control.AgentRuns;
import io.sluice.providers.control.Providers;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/metrics} (extension): this node's live connections (SSE and WebSocket), streams and agent runs,
 * as counts only: {@code {"connections":N,"streams":{"running":N,"retained":N},"agentRuns":{"running":N},
 * "routes":{NAME:{"requests","completed","failures","failuresByCode"}}}}, the last per model route (API.md section 10).
 */
@Path("metrics")
public class MetricsResource {

    @Inject
    ConnectionGuard guard;
    @Inject
    StreamHub hub;
    @Inject
    AgentRuns agentRuns;
    @Inject
    Providers providers;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonObject metrics() {
        return JSON.createObjectBuilder()
                .add("connections", guard.connectionCount())
                .add("streams", JSON.createObjectBuilder()
                        .add("running", hub.runningCount())
                        .add("retained", hub.retainedCount()))
                .add("agentRuns", JSON.createObjectBuilder().add("running", agentRuns.runningCount()))
                .add("routes", providers.stats())
                .build();
    }
}
