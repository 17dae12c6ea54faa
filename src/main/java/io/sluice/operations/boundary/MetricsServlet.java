package io.sluice.operations.boundary;

import io.sluice.agents.control.AgentRuns;
import io.sluice.operations.control.StreamMetrics;
import io.sluice.providers.control.Providers;
import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.StreamHub;
import jakarta.inject.Inject;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics} (API.md section 11): every metric of {@link StreamMetrics} in the Prometheus text exposition
 * format 0.0.4, for a scrape.
 *
 * <p>Why a servlet at {@code /metrics/*}: Payara Micro adds its own MicroProfile Metrics servlet, mapped to
 * {@code /metrics/*}, to the application deployed at the context root {@code /}. It adds it when the application
 * starts, after the application's own servlets, and the Servlet API does not map a pattern that is already taken;
 * so this servlet answers {@code /metrics}, and Payara's stays unmapped. ({@code /health} and {@code /openapi} stay
 * Payara's: they serve this application's health checks and OpenAPI annotations.)
 */
@WebServlet(urlPatterns = "/metrics/*", loadOnStartup = 1)
public class MetricsServlet extends HttpServlet {

    /** The Prometheus text format's media type. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    @Inject
    StreamMetrics metrics;
    @Inject
    StreamHub hub;
    @Inject
    ConnectionGuard guard;
    @Inject
    AgentRuns agentRuns;
    @Inject
    Providers providers;

    /**
     * Publishes the gauges of this node, read at scrape time, and registers at zero the series of every stream type on
     * every route ({@link StreamMetrics#routesKnown}).
     */
    @Override
    public void init() {
        metrics.gauge("sluice.streams.active", "Streams running on this node", hub::runningCount);
        metrics.gauge("sluice.streams.retained", "Ended streams still replayable from memory", hub::retainedCount);
        metrics.gauge("sluice.connections.active", "Live connections on this node, SSE and WebSocket",
                guard::connectionCount);
        metrics.gauge("sluice.agent.runs.active", "Multi-agent runs running on this node", agentRuns::runningCount);
        // known label values at zero from the start: every stream type on every route
        metrics.routesKnown(providers.routeLabels());
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String rest = request.getPathInfo();
        if (rest != null && !rest.equals("/")) {
            response.sendError(404);
            return;
        }
        byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
        response.setContentType(PROMETHEUS_TEXT);
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
