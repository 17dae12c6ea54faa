package io.sluice.identity.boundary;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.security.enterprise.authentication.mechanism.http.OpenIdAuthenticationMechanismDefinition;
import jakarta.security.enterprise.authentication.mechanism.http.openid.ClaimsDefinition;

/**
 * OpenID Connect login (API.md section 12), with Jakarta Security's authorization code flow: the page sends an
 * anonymous visitor to the identity provider, which sends them back to {@value OidcPages#CALLBACK}, where the code is
 * exchanged for tokens and the ID token validated (signature from the provider's JWKS, issuer, audience, nonce). The
 * user's {@code sub} claim becomes the principal, and the owner is {@code user:SUB} (stable, where user names may
 * change). The container's session keeps the login for the API and the WebSocket handshake.
 *
 * <p>Active only when {@code SLUICE_OIDC_ISSUER} and {@code SLUICE_OIDC_CLIENT_ID} are set: otherwise
 * {@link OidcActivation} vetoes this bean, and no authentication mechanism exists. The values come from
 * {@link OidcSettings} ({@code sluiceOidc} in the expressions below), read at run time.
 */
@ApplicationScoped
@OpenIdAuthenticationMechanismDefinition(
        providerURI = "${sluiceOidc.issuer}",
        clientId = "${sluiceOidc.clientId}",
        clientSecret = "${sluiceOidc.clientSecret}",
        redirectURI = "${baseURL}" + OidcPages.CALLBACK,
        claimsDefinition = @ClaimsDefinition(callerNameClaim = "sub"))
public class OidcLogin {
}
