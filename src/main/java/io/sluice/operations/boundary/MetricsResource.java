package io.sluice.operations.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.agents.control.AgentRuns;
import io.sluice.operations.control.StreamMetrics;
import io.sluice.providers.control.Providers;
import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.StreamHub;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.util.Map;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/metrics} (extension): this node's live connections (SSE and WebSocket), streams and agent runs, and
 * the figures of the operators' dashboard ({@code #/dashboard}):
 * {@code {"connections":N,"streams":{"running":N,"retained":N,"unsaved":N},"agentRuns":{"running":N},
 * "firstTokenSeconds":{"p50":S,"p95":S},"eventIntervalSeconds":{"p95":S},"ended":{"completed":N,...},
 * "errors":{"CODE":N,...},"thresholds":{...},"routes":{NAME:{"requests","completed","failures","failuresByCode"}}}},
 * {@code routes} per model route (API.md section 10); {@code unsaved} counts ended streams whose answer waits for
 * the database ({@code PERSISTENCE_FAILED}, issue 11). Percentiles cover about the last minute and are {@code null} without
 * data; {@code ended} and {@code errors} count since the start. {@code thresholds} are the seeds' alarms (first token
 * 1 s, chunk interval 0.2 s, success rate 95 %, 1,500 connections), the same as {@code sluice-alerts.yml}.
 * Prometheus scrapes {@code /metrics} instead.
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
    @Inject
    StreamMetrics metrics;

    @Operation(summary = "This node's live counts and the dashboard's figures (extension; Prometheus metrics are at /metrics)")
    @Tag(name = "Operations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonObject metrics() {
        StreamMetrics.Summary summary = metrics.summary();
        return JSON.createObjectBuilder()
                .add("connections", guard.connectionCount())
                .add("streams", JSON.createObjectBuilder()
                        .add("running", hub.runningCount())
                        .add("retained", hub.retainedCount())
                        .add("unsaved", hub.unsavedCount()))
                .add("agentRuns", JSON.createObjectBuilder().add("running", agentRuns.runningCount()))
                .add("routes", providers.stats())
                .add("firstTokenSeconds", JSON.createObjectBuilder()
                        .add("p50", number(summary.firstTokenP50Seconds()))
                        .add("p95", number(summary.firstTokenP95Seconds())))
                .add("eventIntervalSeconds", JSON.createObjectBuilder()
                        .add("p95", number(summary.eventIntervalP95Seconds())))
                .add("ended", counts(summary.endedByStatus()))
                .add("errors", counts(summary.errorsByCode()))
                .add("thresholds", JSON.createObjectBuilder()
                        .add("firstTokenSeconds", StreamMetrics.ALARM_FIRST_TOKEN_SECONDS)
                        .add("eventIntervalSeconds", StreamMetrics.ALARM_EVENT_INTERVAL_SECONDS)
                        .add("successRate", StreamMetrics.ALARM_SUCCESS_RATE)
                        .add("connections", StreamMetrics.ALARM_CONNECTIONS))
                .build();
    }

    private static JsonValue number(double value) {
        return Double.isNaN(value) ? JsonValue.NULL : JSON.createValue(Math.round(value * 1e6) / 1e6);
    }

    private static JsonObjectBuilder counts(Map<String, Double> counts) {
        JsonObjectBuilder b = JSON.createObjectBuilder();
        counts.forEach((k, v) -> b.add(k, v.longValue()));
        return b;
    }
}
