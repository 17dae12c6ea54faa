package io.sluice.identity.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.identity.control.EdgeLimits;
import io.sluice.identity.control.EdgePolicies;
import io.sluice.identity.control.EdgePolicy;
import io.sluice.identity.control.OwnTraffic;
import io.sluice.identity.control.Owners;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.problems.boundary.Problems;
import io.sluice.platform.control.ProblemException;
import jakarta.inject.Inject;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The edge of every request (API.md sections 6 and 12), in this order:
 * <ol>
 *   <li><b>Charset</b>: a request that declares a body charset other than UTF-8 (or ASCII, Latin-1) gets 415, before
 *       the container tries to decode anything with it.</li>
 *   <li><b>NUL</b>: a request whose path or query holds {@code %00} gets 400 {@code invalid-request}: no id, name or
 *       value of Sluice holds U+0000, and PostgreSQL text cannot (Payara's listener refuses such a URI itself,
 *       WildFly's passes it on; as {@code JsonInput} refuses {@code \u0000} in a body).</li>
 *   <li><b>Host allowlist</b> ({@code SLUICE_ALLOWED_HOSTS}): another {@code Host} gets 403, against DNS
 *       rebinding.</li>
 *   <li><b>CORS</b> ({@code SLUICE_CORS_ORIGINS}): a preflight from a listed origin is answered 204 with credentials
 *       allowed and that one origin (never a wildcard); any other preflight gets 403. Responses to a listed origin
 *       carry {@code Access-Control-Allow-Origin} and {@code -Credentials}.</li>
 *   <li><b>Cross-site request forgery</b>: a state-changing request ({@code POST}, {@code PUT}, {@code PATCH},
 *       {@code DELETE}) or a WebSocket handshake whose browser {@code Origin} is neither the server's own nor listed
 *       gets 403 and changes nothing. This covers the unload beacon, whose {@code text/plain} body any site may send,
 *       form posts and no-cors fetches, including from a same-site page on another port.</li>
 *   <li><b>Security headers</b>: {@code X-Content-Type-Options: nosniff}, {@code Referrer-Policy}, and a
 *       {@code Content-Security-Policy} without inline script for the page.</li>
 *   <li><b>Rate limits</b> per client address (the peer, or behind a trusted proxy its {@code X-Forwarded-For}):
 *       requests that create a stream ({@code SLUICE_STREAMS_PER_MINUTE}) and new anonymous identities
 *       ({@code SLUICE_NEW_IDENTITIES_PER_MINUTE}); one more gets 429 {@code rate-limited} with {@code Retry-After}
 *       (issue 11, rule 10).</li>
 *   <li><b>Identity</b>: the authenticated principal when there is one. Else, with OpenID Connect login on, API and
 *       WebSocket requests get 401. Else the anonymous {@value Owners#COOKIE} cookie (HttpOnly, SameSite=Lax, one
 *       year, {@code Secure} behind HTTPS). A new identity is issued only to a client that is not a browser (no
 *       {@code Origin}, no {@code Sec-Fetch-Site}), or on a browser's safe ({@code GET}, {@code HEAD}) request that
 *       is same-site or from a listed origin: a browser's state-changing request without the cookie gets 403 and
 *       never a new cookie, so a cross-site request can never replace a user's identity.</li>
 * </ol>
 * The WebSocket handshake passes here too: its new cookie goes on the 101 response, and the handshake sees it in
 * its {@code Cookie} header ({@code OwnerConfigurator} then reads the same identity).
 *
 * <p>The node's own warm-up (issue 22) sends its requests over loopback with the running warm-up's token in
 * {@link OwnTraffic#HEADER}; {@link OwnTraffic#admits} (the warm-up's) accepts it only from an address of this machine, while a warm-up runs.
 * Such a request skips the {@code Host} allowlist (its client cannot set {@code Host}), the rate limits and identity
 * issuance, and its owner is {@code warmup:} and its {@code sluice_uid} cookie ({@link Owners#forWarmup}). It meets
 * every other rule like any request without {@code Origin}. Any other value of the header is ignored.
 */
@WebFilter(urlPatterns = "/*", asyncSupported = true)
public class IdentityFilter extends HttpFilter {

    private static final int ONE_YEAR_SECONDS = 365 * 24 * 3600;
    /** The page's policy: scripts and styles from the application only (styles may be set inline by libraries). */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; "
            + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'";
    private static final String ALLOWED_HEADERS = "Content-Type, Last-Event-ID, X-Sluice-Client-Id, Authorization";
    private static final String EXPOSED_HEADERS = "Location, X-Sluice-Stream-Id, Retry-After";

    /** Charsets a request may declare: UTF-8, and ASCII and Latin-1, whose form and query bytes decode alike. */
    private static final Set<String> TEXT_CHARSETS = Set.of("utf-8", "utf8", "us-ascii",
            "iso-8859-1");

    @Inject
    SluiceConfig config;
    @Inject
    EdgePolicies policies;
    @Inject
    EdgeLimits limits;
    @Inject
    OwnTraffic warmup;

    /** Whether OpenID Connect login is on: read once (it is fixed at deployment, and a config read takes a lock). */
    private volatile Boolean oidc;

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String charset = request.getCharacterEncoding();
        if (charset != null && !TEXT_CHARSETS.contains(charset.strip().toLowerCase(Locale.ROOT))) {
            // JSON is UTF-8 (RFC 8259); a body declared UTF-16 made the container fail to decode the query (500)
            refuse(response, 415, "unsupported-media-type", "request bodies are UTF-8, not " + charset.strip());
            return;
        }
        if (holdsNul(request.getRequestURI()) || holdsNul(request.getQueryString())) {
            refuse(response, 400, "invalid-request", "the request URI holds a NUL character (%00)");
            return;
        }
        EdgePolicy edge = policies.policy();
        String path = request.getRequestURI().substring(request.getContextPath().length());
        boolean warm = warmup.admits(request.getHeader(OwnTraffic.HEADER), request.getRemoteAddr());
        if (!warm && !edge.hostAllowed(request.getHeader("Host"))) {
            refuse(response, 403, "host-not-allowed", "this host name is not served here (SLUICE_ALLOWED_HOSTS)");
            return;
        }
        String origin = request.getHeader("Origin");
        String fetchSite = request.getHeader("Sec-Fetch-Site");
        boolean secure = edge.secure(request.isSecure(), request.getRemoteAddr(),
                request.getHeader("X-Forwarded-Proto"));
        String own = edge.ownOrigin(secure, request.getHeader("Host"), request.getRemoteAddr(),
                request.getHeader("X-Forwarded-Host"));
        boolean listed = origin != null && edge.corsAllowed(origin);
        if (request.getMethod().equals("OPTIONS") && origin != null
                && request.getHeader("Access-Control-Request-Method") != null) {
            preflight(response, origin, listed);
            return;
        }
        boolean webSocket = "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
        if (EdgePolicy.unsafe(request.getMethod()) || webSocket) {
            if (!edge.originAllowed(origin, own) || (origin == null && EdgePolicy.browserCrossSite(fetchSite))) {
                refuse(response, 403, "cross-origin", "requests that change state must come from this application's "
                        + "own pages or an origin in SLUICE_CORS_ORIGINS");
                return;
            }
        }
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "same-origin");
        response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        if (listed) {
            response.setHeader("Access-Control-Allow-Origin", origin.strip());
            response.setHeader("Access-Control-Allow-Credentials", "true");
            response.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
            response.addHeader("Vary", "Origin");
        }
        if (!needsOwner(path)) {
            chain.doFilter(request, response);
            return;
        }
        if (warm) {
            String id = Owners.anonymousIdFrom(request.getCookies());
            if (id == null) {
                refuse(response, 400, "invalid-request", "a warm-up request needs its sluice_uid cookie");
                return;
            }
            request.setAttribute(Owners.ATTRIBUTE, Owners.forWarmup(id));
            chain.doFilter(request, response);
            return;
        }
        String client = edge.clientAddress(request.getRemoteAddr(), request.getHeader("X-Forwarded-For"));
        if (createsStream(request.getMethod(), path)) {
            long wait = limits.streams().acquire(client, System.nanoTime());
            if (wait > 0) {
                rateLimited(response, wait, "streams");
                return;
            }
        }
        HttpServletRequest forward = request;
        if (request.getUserPrincipal() != null) {
            request.setAttribute(Owners.ATTRIBUTE, Owners.forPrincipal(request.getUserPrincipal().getName()));
        } else if (oidcEnabled()) {
            refuse(response, 401, "login-required", "log in first: this server requires OpenID Connect login");
            return;
        } else {
            String anonymous = Owners.anonymousIdFrom(request.getCookies());
            if (anonymous == null) {
                boolean mayIssue = !EdgePolicy.fromBrowser(origin, fetchSite) || (!EdgePolicy.unsafe(request.getMethod())
                        && (!EdgePolicy.browserCrossSite(fetchSite) || listed));
                if (!mayIssue && isPage(path)) {
                    chain.doFilter(request, response); // the page itself acts for no one; its first API call issues
                    return;
                }
                if (!mayIssue) {
                    refuse(response, 403, "identity-required",
                            "this browser has no Sluice identity yet: load the page first");
                    return;
                }
                long wait = limits.identities().acquire(client, System.nanoTime());
                if (wait > 0) {
                    rateLimited(response, wait, "new identities");
                    return;
                }
                anonymous = Ids.newId();
                Cookie cookie = new Cookie(Owners.COOKIE, anonymous);
                cookie.setHttpOnly(true);
                cookie.setPath(request.getContextPath().isEmpty() ? "/" : request.getContextPath());
                cookie.setMaxAge(ONE_YEAR_SECONDS);
                cookie.setSecure(secure);
                cookie.setAttribute("SameSite", "Lax");
                response.addCookie(cookie);
                if (webSocket) {
                    forward = withCookie(request, Owners.COOKIE + "=" + anonymous);
                }
            }
            request.setAttribute(Owners.ATTRIBUTE, Owners.forAnonymous(anonymous));
        }
        chain.doFilter(forward, response);
    }

    private boolean oidcEnabled() {
        Boolean on = oidc;
        if (on == null) {
            on = config.oidcEnabled();
            oidc = on;
        }
        return on;
    }

    /**
     * The requests that create a stream (API.md sections 2, 3, 8, 9, and 13's generate alias), counted by
     * {@code SLUICE_STREAMS_PER_MINUTE}.
     */
    static boolean createsStream(String method, String path) {
        return method.equals("POST") && (path.equals("/api/chat/stream") || path.equals("/api/streams")
                || path.startsWith("/api/generate") || path.startsWith("/api/v1/ai/generate")
                || path.startsWith("/v1/chat/completions")
                || path.startsWith("/v1/completions"));
    }

    private static void rateLimited(HttpServletResponse response, long retryAfterSeconds, String what)
            throws IOException {
        response.setHeader("Retry-After", Long.toString(retryAfterSeconds));
        refuse(response, 429, "rate-limited", "too many " + what + " from this client address; try again in "
                + retryAfterSeconds + " s");
    }

    private static boolean isPage(String path) {
        return path.isEmpty() || path.equals("/") || path.equals("/index.html");
    }

    /** Whether the path is the API, the WebSocket or the page: the requests that act for a user. */
    static boolean needsOwner(String path) {
        return isPage(path) || path.startsWith("/api/")
                || path.startsWith("/ws/") || path.startsWith("/v1/");
    }

    private void preflight(HttpServletResponse response, String origin, boolean listed) throws IOException {
        if (!listed) {
            refuse(response, 403, "cross-origin", "this origin is not in SLUICE_CORS_ORIGINS");
            return;
        }
        response.setStatus(204);
        response.setHeader("Access-Control-Allow-Origin", origin.strip());
        response.setHeader("Access-Control-Allow-Credentials", "true");
        response.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        response.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
        response.setHeader("Access-Control-Max-Age", "600");
        response.addHeader("Vary", "Origin");
    }

    /** Whether a raw (undecoded) URI part holds {@code %00}; {@code null} holds nothing. */
    static boolean holdsNul(String raw) {
        return raw != null && raw.contains("%00");
    }

    private static void refuse(HttpServletResponse response, int status, String type, String detail)
            throws IOException {
        response.setStatus(status);
        response.setContentType(Problems.PROBLEM_JSON); // JSON is UTF-8 (RFC 8259): no charset parameter
        response.setHeader("X-Content-Type-Options", "nosniff");
        byte[] body = JSON.createObjectBuilder()
                .add("type", Problems.TYPE_BASE + type)
                .add("title", ProblemException.title(status))
                .add("status", status)
                .add("detail", detail)
                .build().toString().getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /** The request with {@code cookie} added to its {@code Cookie} headers (a handshake's new identity). */
    private static HttpServletRequest withCookie(HttpServletRequest request, String cookie) {
        return new HttpServletRequestWrapper(request) {
            @Override
            public String getHeader(String name) {
                if (!"Cookie".equalsIgnoreCase(name)) {
                    return super.getHeader(name);
                }
                String existing = super.getHeader(name);
                return existing == null ? cookie : existing + "; " + cookie;
            }

            @Override
            public Enumeration<String> getHeaders(String name) {
                if (!"Cookie".equalsIgnoreCase(name)) {
                    return super.getHeaders(name);
                }
                List<String> values = new ArrayList<>(Collections.list(super.getHeaders(name)));
                values.add(cookie);
                return Collections.enumeration(values);
            }

            @Override
            public Enumeration<String> getHeaderNames() {
                List<String> names = new ArrayList<>(Collections.list(super.getHeaderNames()));
                if (names.stream().noneMatch("Cookie"::equalsIgnoreCase)) {
                    names.add("Cookie");
                }
                return Collections.enumeration(names);
            }
        };
    }
}
