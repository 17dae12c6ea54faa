package io.sluice.identity.boundary;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.enterprise.inject.spi.ProcessAnnotatedType;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Keeps OpenID Connect login off unless it is configured: a CDI extension that vetoes {@link OidcLogin} (so Jakarta
 * Security defines no authentication mechanism) when {@code SLUICE_OIDC_ISSUER} or {@code SLUICE_OIDC_CLIENT_ID} is
 * unset. Registered in {@code META-INF/services/jakarta.enterprise.inject.spi.Extension}.
 */
public class OidcActivation implements Extension {

    private static final Logger LOG = Logger.getLogger(OidcActivation.class.getName());

    void decide(@Observes ProcessAnnotatedType<OidcLogin> type) {
        if (enabled(ConfigProvider.getConfig())) {
            LOG.info("OpenID Connect login is on: anonymous identities are off");
        } else {
            type.veto();
        }
    }

    /** Whether the issuer and the client id are both set (the rule of {@code SluiceConfig.oidcEnabled}). */
    static boolean enabled(Config config) {
        return set(config, "sluice.oidc.issuer") && set(config, "sluice.oidc.client.id");
    }

    private static boolean set(Config config, String key) {
        return config.getOptionalValue(key, String.class).filter(s -> !s.isBlank()).isPresent();
    }
}
