package io.sluice.operations.boundary;

import io.sluice.platform.control.Database;
import io.sluice.platform.control.Redis;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * The health checks of {@code /health/live} and {@code /health/ready} (API.md section 11; MicroProfile Health,
 * served by the server): liveness says the application is deployed; readiness checks that the database answers
 * ({@code Connection.isValid}, 2 s) and, when {@code SLUICE_REDIS_URL} is set, that Redis answers {@code PING}
 * (1 s). A failing check answers 503 with {@code "status":"DOWN"} and the check's name and reason.
 */
@ApplicationScoped
public class ReadinessChecks {

    @Resource(lookup = Database.JNDI_NAME)
    DataSource dataSource;
    @Inject
    Redis redis;

    /** {@code sluice}: up while the application is deployed. */
    @Produces
    @Liveness
    HealthCheck live() {
        return () -> HealthCheckResponse.up("sluice");
    }

    /** {@code database}: a pooled connection answers within 2 s. */
    @Produces
    @Readiness
    HealthCheck database() {
        return () -> {
            try (Connection c = dataSource.getConnection()) {
                return HealthCheckResponse.named("database").status(c.isValid(2))
                        .withData("product", c.getMetaData().getDatabaseProductName()).build();
            } catch (SQLException | RuntimeException e) {
                return HealthCheckResponse.named("database").down()
                        .withData("error", e.getClass().getSimpleName()).build();
            }
        };
    }

    /** {@code redis}: when {@code SLUICE_REDIS_URL} is set, Redis answers {@code PING} within 1 s. */
    @Produces
    @Readiness
    HealthCheck redis() {
        return () -> {
            if (!redis.enabled()) {
                return HealthCheckResponse.named("redis").up().withData("configured", false).build();
            }
            Optional<String> failure = redis.ping(1000);
            return failure.isEmpty() ? HealthCheckResponse.named("redis").up().withData("configured", true).build()
                    : HealthCheckResponse.named("redis").down().withData("error", failure.get()).build();
        };
    }
}
