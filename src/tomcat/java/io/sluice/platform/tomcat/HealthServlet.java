package io.sluice.platform.tomcat;

import io.smallrye.health.SmallRyeHealth;
import io.smallrye.health.SmallRyeHealthReporter;
import jakarta.inject.Inject;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * MicroProfile Health on Tomcat (API.md section 11), which Payara and WildFly serve themselves: {@code GET /health}
 * (every check), {@code /health/live} and {@code /health/ready}, each the JSON report of SmallRye Health (the
 * implementation WildFly uses) over Sluice's checks; 200 when the status is {@code UP}, else 503. Another path under
 * {@code /health} gets 404.
 */
@WebServlet(urlPatterns = {"/health", "/health/*"})
public class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Inject
    transient SmallRyeHealthReporter reporter;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        SmallRyeHealth health = switch (path) {
            case "", "/" -> reporter.getHealth();
            case "/live" -> reporter.getLiveness();
            case "/ready" -> reporter.getReadiness();
            case "/started" -> reporter.getStartup();
            default -> null;
        };
        if (health == null) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        response.setStatus(health.isDown() ? HttpServletResponse.SC_SERVICE_UNAVAILABLE : HttpServletResponse.SC_OK);
        response.setContentType("application/json");
        reporter.reportHealth(response.getOutputStream(), health);
    }
}
