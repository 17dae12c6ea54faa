package io.sluice.identity.control;

import io.sluice.platform.control.SluiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The {@link EdgePolicy} of this deployment, read once from {@code SLUICE_CORS_ORIGINS}, {@code _ALLOWED_HOSTS} and
 * {@code _TRUSTED_PROXIES}; shared by the servlet filter and the WebSocket handshake. */
@ApplicationScoped
public class EdgePolicies {

    @Inject
    SluiceConfig config;

    private volatile EdgePolicy policy;

    /** @throws IllegalArgumentException when a setting is malformed (names the setting) */
    public EdgePolicy policy() {
        EdgePolicy p = policy;
        if (p == null) {
            p = EdgePolicy.of(config.corsOrigins(), config.allowedHosts(), config.trustedProxies());
            policy = p;
        }
        return p;
    }
}
