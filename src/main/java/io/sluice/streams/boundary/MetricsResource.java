package io.sluice.streams.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.StreamHub;
import io.sluice.agents.control.AgentRuns;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/metrics} (extension): this node's live connections (SSE and WebSocket), streams and agent runs,
 * as counts only: {@code {"connections":N,"streams":{"running":N,"retained":N},"agentRuns":{"running":N}}}.
 */
@Path("metrics")
public class MetricsResource {

    @Inject
    ConnectionGuard guard;
    @Inject
    StreamHub hub;
    @Inject
    AgentRuns agentRuns;

    @Operation(summary = "This node's live counts and the dashboard's figures (extension; Prometheus metrics are at /metrics)")
    @Tag(name = "Operations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonObject metrics() {
        return JSON.createObjectBuilder()
                .add("connections", guard.connectionCount())
                .add("streams", JSON.createObjectBuilder()
                        .add("running", hub.runningCount())
                        .add("retained", hub.retainedCount()))
                .add("agentRuns", JSON.createObjectBuilder().add("running", agentRuns.runningCount()))
                .build();
    }
}
