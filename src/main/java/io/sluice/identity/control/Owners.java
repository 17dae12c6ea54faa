package io.sluice.identity.control;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.util.UUID;

/**
 * Owner keys (API.md section 6): {@code user:NAME} for an authenticated principal, {@code anon:UUID} for an
 * anonymous browser. Every conversation, stream and run stores the key of the user who created it, and
 * lookups by another owner behave as if the id did not exist.
 */
public final class Owners {

    /** Name of the cookie that carries an anonymous identity. */
    public static final String COOKIE = "sluice_uid";
    /** Request attribute under which {@code IdentityFilter} leaves the owner key. */
    public static final String ATTRIBUTE = "io.sluice.owner";

    private Owners() {
    }

    /** Request attribute under which {@code ApiKeyFilter} leaves the owner of a known bearer key (API.md section 8). */
    public static final String API_KEY_ATTRIBUTE = "io.sluice.owner.apiKey";
    /**
     * Request attribute that {@code ApiKeyFilter} sets to {@code Boolean.TRUE} when API keys are configured
     * ({@code SLUICE_API_KEYS}, {@code SLUICE_API_KEYS_FILE}), for the paths under {@code /api} that then need one
     * (API.md section 13: {@code /api/v1/ai/generate}).
     */
    public static final String API_KEYS_ATTRIBUTE = "io.sluice.apiKeys";

    /**
     * The owner key of a request that passed the identity filter; never {@code null}. A known API key's user comes
     * first (API.md section 8), then the identity filter's owner (section 6).
     */
    public static String of(HttpServletRequest request) {
        Object keyOwner = request.getAttribute(API_KEY_ATTRIBUTE);
        if (keyOwner != null) {
            return (String) keyOwner;
        }
        Object owner = request.getAttribute(ATTRIBUTE);
        if (owner == null) {
            throw new IllegalStateException("request did not pass IdentityFilter");
        }
        return (String) owner;
    }

    public static String forPrincipal(String name) {
        return "user:" + name;
    }

    public static String forAnonymous(String uuid) {
        return "anon:" + uuid;
    }

    /** Prefix of the owner keys of the node's own warm-up (issue 22); no user's key starts with it. */
    public static final String WARMUP_PREFIX = "warmup:";

    /**
     * The owner key of a client of the node's warm-up ({@code io.sluice.warmup}), whose requests carry its token:
     * {@code warmup:UUID}, never a user's ({@code user:NAME}, {@code anon:UUID}), so nothing it creates is listed for
     * anyone else, and its rows are found and deleted by this prefix.
     */
    public static String forWarmup(String uuid) {
        return WARMUP_PREFIX + uuid;
    }

    /** The anonymous id of the first well-formed {@value #COOKIE} cookie, or {@code null}. */
    public static String anonymousIdFrom(Cookie[] cookies) {
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (COOKIE.equals(cookie.getName()) && isUuid(cookie.getValue())) {
                return cookie.getValue().toLowerCase();
            }
        }
        return null;
    }

    /**
     * The anonymous id of the first well-formed {@value #COOKIE} cookie in raw {@code Cookie} request headers
     * (RFC 6265 section 5.4: {@code name=value} pairs separated by {@code ;}), or {@code null}. For requests that
     * bypass the servlet API's cookie parsing, such as a WebSocket handshake.
     */
    public static String anonymousIdFromHeaders(java.util.List<String> cookieHeaders) {
        if (cookieHeaders == null) {
            return null;
        }
        for (String header : cookieHeaders) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && COOKIE.equals(pair.substring(0, eq).strip())) {
                    String value = pair.substring(eq + 1).strip();
                    if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                        value = value.substring(1, value.length() - 1);
                    }
                    if (isUuid(value)) {
                        return value.toLowerCase();
                    }
                }
            }
        }
        return null;
    }

    /** True when {@code value} is a canonical 36-character UUID. */
    public static boolean isUuid(String value) {
        if (value == null || value.length() != 36) {
            return false;
        }
        try {
            UUID.fromString(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
