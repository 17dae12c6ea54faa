package io.sluice.identity.boundary;

import io.sluice.platform.control.SluiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import org.eclipse.microprofile.config.Config;

/**
 * The three settings of OpenID Connect login (API.md section 12), for the expressions of {@link OidcLogin}:
 * {@code SLUICE_OIDC_ISSUER} (the issuer URL; its {@code /.well-known/openid-configuration} is read),
 * {@code SLUICE_OIDC_CLIENT_ID} and {@code SLUICE_OIDC_CLIENT_SECRET}.
 */
@ApplicationScoped
@Named("sluiceOidc")
public class OidcSettings {

    @Inject
    SluiceConfig sluice;
    @Inject
    Config config;

    /** The issuer URL, without a trailing slash. */
    public String getIssuer() {
        String issuer = sluice.oidcIssuer().orElse("");
        return issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    }

    public String getClientId() {
        return sluice.oidcClientId().orElse("");
    }

    /** The client secret; empty for a public client. */
    public String getClientSecret() {
        return config.getOptionalValue("sluice.oidc.client.secret", String.class).orElse("");
    }
}
