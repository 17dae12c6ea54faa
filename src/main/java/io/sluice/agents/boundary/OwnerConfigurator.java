package io.sluice.agents.boundary;

import io.sluice.identity.control.Owners;
import io.sluice.platform.control.Ids;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * Gives a {@code /ws/agents} handshake its owner (API.md section 6), as {@code IdentityFilter} does for HTTP: the
 * authenticated principal, else the anonymous {@value Owners#COOKIE} cookie, else a new anonymous identity whose
 * cookie the handshake response sets (HttpOnly, SameSite=Lax, one year). The owner key is left in the session's
 * user properties under {@link Owners#ATTRIBUTE}: Jakarta WebSocket 2.1 makes the properties seen here a
 * per-connection copy that becomes the session's.
 *
 * <p>Cross-site WebSocket hijacking: a browser sends {@code Origin}; a handshake whose origin's host and port
 * differ from the {@code Host} it was sent to is marked {@link #CROSS_ORIGIN}, and the endpoint closes it
 * (1008) before reading anything. Clients that send no {@code Origin} (not browsers) are let through.
 */
public class OwnerConfigurator extends ServerEndpointConfig.Configurator {

    /** User property set (to {@code Boolean.TRUE}) on a cross-origin handshake. */
    public static final String CROSS_ORIGIN = "io.sluice.crossOrigin";

    private static final int ONE_YEAR_SECONDS = 365 * 24 * 3600;

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
                response.getHeaders().put("Set-Cookie", List.of(Owners.COOKIE + "=" + anonymous + "; Path="
                        + contextPath(request) + "; Max-Age=" + ONE_YEAR_SECONDS + "; HttpOnly; SameSite=Lax"));
            }
            owner = Owners.forAnonymous(anonymous);
        }
        properties.put(Owners.ATTRIBUTE, owner);
        if (crossOrigin(first(header(request, "Origin")), first(header(request, "Host")))) {
            properties.put(CROSS_ORIGIN, Boolean.TRUE);
        }
    }

    /** Whether a browser's {@code Origin} names another host or port than the {@code Host} it connected to. */
    static boolean crossOrigin(String origin, String host) {
        if (origin == null || host == null) {
            return false;
        }
        try {
            URI uri = URI.create(origin.strip());
            if (uri.getHost() == null) {
                return true; // "null" (sandboxed frames, file:) or garbage
            }
            int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            String h = host.strip().toLowerCase();
            String hostName = h;
            int hostPort = -1;
            int colon = h.lastIndexOf(':');
            if (colon > h.lastIndexOf(']')) {
                hostName = h.substring(0, colon);
                hostPort = Integer.parseInt(h.substring(colon + 1));
            }
            boolean samePort = hostPort == -1 ? port == 80 || port == 443 : hostPort == port;
            return !(uri.getHost().equalsIgnoreCase(hostName) && samePort);
        } catch (IllegalArgumentException e) {
            return true;
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
