package io.sluice.identity.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.identity.control.ApiKeys;
import io.sluice.identity.control.Owners;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.problems.boundary.Problems;
import jakarta.inject.Inject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * API keys (API.md section 8): with {@code SLUICE_API_KEYS} or {@code SLUICE_API_KEYS_FILE} set, every {@code /v1}
 * request needs {@code Authorization: Bearer KEY} with a known key, which names its owner; without one it is answered
 * 401 in OpenAI's error shape ({@code invalid_api_key}), before anything runs. Under {@code /api} a bearer key is
 * optional: a known one makes its user the owner (so a script can follow or stop the streams it started at
 * {@code /v1}), an unknown one is a 401 problem; without one, the rules of section 6 apply, except on seed 004's
 * {@code /api/v1/ai/generate} (section 13), which needs a key as {@code /v1} does: this filter marks the request
 * ({@link Owners#API_KEYS_ATTRIBUTE}) and that path's own filter refuses it there. Without keys configured this filter
 * does nothing.
 *
 * <p>The owner is left in the request attribute {@link Owners#API_KEY_ATTRIBUTE}, which {@link Owners#of} prefers to
 * the identity filter's, so the order of the two filters does not matter.
 */
@WebFilter(urlPatterns = {"/v1/*", "/api/*"}, asyncSupported = true)
public class ApiKeyFilter extends HttpFilter {

    @Inject
    SluiceConfig config;

    private volatile ApiKeys keys;

    private ApiKeys keys() {
        ApiKeys k = keys;
        if (k == null) {
            List<String> file = config.apiKeysFile().map(ApiKeyFilter::lines).orElse(null);
            k = ApiKeys.parse(config.apiKeys().orElse(null), file);
            keys = k;
        }
        return k;
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("SLUICE_API_KEYS_FILE " + file + " cannot be read: " + e, e);
        }
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        ApiKeys known = keys();
        if (!known.enabled()) {
            chain.doFilter(request, response);
            return;
        }
        request.setAttribute(Owners.API_KEYS_ATTRIBUTE, Boolean.TRUE); // /api/v1/ai/generate then needs a key too
        boolean v1 = request.getServletPath().startsWith("/v1");
        String bearer = bearer(request.getHeader("Authorization"));
        Optional<String> owner = known.ownerOf(bearer);
        if (owner.isPresent()) {
            request.setAttribute(Owners.API_KEY_ATTRIBUTE, owner.get());
        } else if (v1 || bearer != null) {
            refuse(response, v1, bearer == null ? "no API key was given: send Authorization: Bearer KEY"
                    : "the API key is not known");
            return;
        }
        chain.doFilter(request, response);
    }

    /** The token of an {@code Authorization: Bearer …} header (RFC 6750, scheme case-insensitive), or null. */
    static String bearer(String header) {
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).strip();
        return token.isEmpty() ? null : token;
    }

    private static void refuse(HttpServletResponse response, boolean v1, String message) throws IOException {
        response.setStatus(401);
        response.setHeader("WWW-Authenticate", "Bearer");
        response.setCharacterEncoding("UTF-8");
        String body;
        if (v1) {
            response.setContentType("application/json");
            body = JSON.createObjectBuilder().add("error", JSON.createObjectBuilder()
                    .add("message", message).add("type", "invalid_request_error").addNull("param")
                    .add("code", "invalid_api_key")).build().toString();
        } else {
            response.setContentType(Problems.PROBLEM_JSON);
            body = JSON.createObjectBuilder().add("type", Problems.TYPE_BASE + "unauthorized")
                    .add("title", "Unauthorized").add("status", 401).add("detail", message).build().toString();
        }
        response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }
}
