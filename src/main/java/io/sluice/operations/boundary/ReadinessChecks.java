package io.sluice.operations.boundary;

import io.sluice.platform.control.Database;
import io.sluice.streams.control.StreamTransport;
import io.sluice.warmup.control.Warmup;
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
 * ({@code Connection.isValid}, 2 s), when {@code SLUICE_REDIS_URL} is set that Redis answers {@code PING} (1 s), and
 * that the node has warmed up after its start ({@link Warmup}, issue 22). A failing check answers 503 with
 * {@code "status":"DOWN"} and the check's name and reason.
 */
@ApplicationScoped
public class ReadinessChecks {

    @Resource(lookup = Database.JNDI_NAME)
    DataSource dataSource;
    @Inject
    StreamTransport transport;
    @Inject
    Warmup warmup;

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

    /**
     * {@code redis}: when {@code SLUICE_REDIS_URL} is set (the transport is shared), Redis answers {@code PING} within
     * 1 s.
     */
    @Produces
    @Readiness
    HealthCheck redis() {
        return () -> {
            if (!transport.shared()) {
                return HealthCheckResponse.named("redis").up().withData("configured", false).build();
            }
            Optional<String> failure = transport.unreachable(1000);
            return failure.isEmpty() ? HealthCheckResponse.named("redis").up().withData("configured", true).build()
                    : HealthCheckResponse.named("redis").down().withData("error", failure.get()).build();
        };
    }

    /**
     * {@code warmup}: down while the node warms up after its start (at most {@code SLUICE_WARMUP_SECONDS}); up once it
     * has, when it is off ({@code SLUICE_WARMUP=false}), and after a warm-up that timed out, failed or was skipped.
     * Data: {@code state} ({@code off}, {@code waiting}, {@code running}, {@code done}, {@code timed out},
     * {@code failed}, {@code skipped}), {@code streams} it completed, {@code failures}, {@code ms} it took, and a
     * {@code detail}.
     */
    @Produces
    @Readiness
    HealthCheck warmup() {
        return () -> {
            Warmup.Status s = warmup.status();
            var check = HealthCheckResponse.named("warmup").status(s.state().ready())
                    .withData("state", s.state().wire());
            if (s.state() != Warmup.State.OFF) {
                check.withData("streams", s.streams()).withData("failures", s.failures()).withData("ms", s.elapsedMs());
            }
            if (s.detail() != null) {
                check.withData("detail", s.detail());
            }
            return check.build();
        };
    }
}
