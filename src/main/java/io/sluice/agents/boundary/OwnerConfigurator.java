package io.sluice.agents.boundary;

import io.sluice.identity.control.EdgePolicies;
import io.sluice.identity.control.EdgePolicy;
import io.sluice.identity.control.Owners;
import jakarta.enterprise.inject.spi.CDI;
import io.sluice.platform.control.EndpointInstances;
import io.sluice.platform.control.Ids;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.util.List;
import java.util.Map;

/**
 * Gives a {@code /ws/agents} handshake its owner (API.md section 6), as {@code IdentityFilter} does for HTTP: the
 * authenticated principal, else the anonymous {@value Owners#COOKIE} cookie. On Payara the handshake passes
 * {@code IdentityFilter} first, which refuses a foreign {@code Origin} or {@code Host} with 403 and issues a new
 * identity (its cookie on the 101 response, {@code Secure} behind HTTPS) that this configurator then reads. On a
 * server whose filters do not see the handshake, this configurator issues the cookie itself (HttpOnly,
 * SameSite=Lax, one year; {@code Secure} when the handshake came with {@code X-Forwarded-Proto: https}). The owner
 * key is left in the session's user properties under {@link Owners#ATTRIBUTE}: Jakarta WebSocket 2.1 makes the
 * properties seen here a per-connection copy that becomes the session's.
 *
 * <p>Cross-site WebSocket hijacking (API.md section 12), checked again here: a handshake whose browser
 * {@code Origin} is neither the host it was sent to nor in {@code SLUICE_CORS_ORIGINS} is marked
 * {@link #CROSS_ORIGIN}, and the endpoint closes it (1008) before reading anything. Clients that send no
 * {@code Origin} (not browsers) are let through.
 */
public class OwnerConfigurator extends ServerEndpointConfig.Configurator {

    /** User property set (to {@code Boolean.TRUE}) on a cross-origin handshake. */
    /** User property: when the handshake was received, {@link System#nanoTime()}. */
    static final String HANDSHAKE_NANOS = "sluice.handshakeNanos";
    public static final String CROSS_ORIGIN = "io.sluice.crossOrigin";

    private static final int ONE_YEAR_SECONDS = 365 * 24 * 3600;

    /** The server's endpoint instance, or {@link EndpointInstances#INSTALLED}'s where there is one (Tomcat). */
    @Override
    public <T> T getEndpointInstance(Class<T> endpointClass) throws InstantiationException {
        EndpointInstances own = EndpointInstances.INSTALLED;
        return own != null ? own.create(endpointClass) : super.getEndpointInstance(endpointClass);
    }

    @Override
    public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
        Map<String, Object> properties = sec.getUserProperties();
        String owner;
        if (request.getUserPrincipal() != null) {
            owner = Owners.forPrincipal(request.getUserPrincipal().getName());
        } else {
            String anonymous = Owners.anonymousIdFromHeaders(header(request, "Cookie"));
            if (anonymous == null) {
                anonymous = Ids.newId();
                boolean https = "https".equalsIgnoreCase(first(header(request, "X-Forwarded-Proto")));
                response.getHeaders().put("Set-Cookie", List.of(Owners.COOKIE + "=" + anonymous + "; Path="
                        + contextPath(request) + "; Max-Age=" + ONE_YEAR_SECONDS + "; HttpOnly; SameSite=Lax"
                        + (https ? "; Secure" : "")));
            }
            owner = Owners.forAnonymous(anonymous);
        }
        properties.put(Owners.ATTRIBUTE, owner);
        properties.put(HANDSHAKE_NANOS, System.nanoTime()); // orders two sessions of one tab (ConnectionGuard)
        if (crossOrigin(policy(), first(header(request, "Origin")), first(header(request, "Host")))) {
            properties.put(CROSS_ORIGIN, Boolean.TRUE);
        }
    }

    /** Whether a browser's {@code Origin} names another host or port than the {@code Host} it connected to. */
    static boolean crossOrigin(String origin, String host) {
        return crossOrigin(EdgePolicy.of(null, null, null), origin, host);
    }

    /**
     * Whether a browser's {@code Origin} is neither the {@code Host} it connected to (any scheme) nor listed in the
     * policy's CORS origins; no {@code Origin} (not a browser) is never cross-origin.
     */
    static boolean crossOrigin(EdgePolicy policy, String origin, String host) {
        if (origin == null || host == null) {
            return false;
        }
        return !policy.originAllowed(origin, policy.ownOrigin(false, host, null, null));
    }

    private static EdgePolicy policy() {
        try {
            return CDI.current().select(EdgePolicies.class).get().policy();
        } catch (IllegalStateException e) {
            return EdgePolicy.of(null, null, null); // no CDI container: same origin only
        }
    }

    private static List<String> header(HandshakeRequest request, String name) {
        for (Map.Entry<String, List<String>> entry : request.getHeaders().entrySet()) {
            if (entry.getKey().equalsIgnoreCase(name)) {
                return entry.getValue();
            }
        }
        return null;
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The application's context path, from the handshake's path ({@code /ctx/ws/agents} gives {@code /ctx}). */
    private static String contextPath(HandshakeRequest request) {
        String path = request.getRequestURI().getPath();
        int at = path == null ? -1 : path.lastIndexOf("/ws/agents");
        return at <= 0 ? "/" : path.substring(0, at);
    }
}
