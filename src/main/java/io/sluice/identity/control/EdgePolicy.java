package io.sluice.identity.control;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The rules every request meets at the edge, before it gets an owner (API.md section 12): the {@code Host}
 * allowlist against DNS rebinding, the same-origin rule for state-changing requests against cross-site request
 * forgery and cross-site WebSocket hijacking, the CORS allowlist, and whether the client reached Sluice over HTTPS
 * (directly, or through a trusted proxy's {@code X-Forwarded-Proto}). Plain code, no container: the servlet filter
 * and the WebSocket handshake both ask it.
 *
 * <p>Origins are compared as RFC 6454 serializations: {@code scheme://host[:port]}, lower case, with the scheme's
 * default port left out.
 *
 * @param corsOrigins    {@code SLUICE_CORS_ORIGINS}: origins that may call the API from a browser, with credentials
 * @param allowedHosts   {@code SLUICE_ALLOWED_HOSTS}: host names (optionally {@code name:port}) that requests may
 *                       name in {@code Host}; empty allows any
 * @param trustedProxies {@code SLUICE_TRUSTED_PROXIES}: addresses or CIDR blocks whose {@code X-Forwarded-Proto}
 *                       and {@code X-Forwarded-Host} are believed
 */
public record EdgePolicy(Set<String> corsOrigins, Set<String> allowedHosts, List<Cidr> trustedProxies) {

    /** Proxies trusted when {@code SLUICE_TRUSTED_PROXIES} is unset: this machine (a reverse proxy beside Sluice). */
    public static final String DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128";

    /**
     * Reads the three settings from their comma-separated values (blank or {@code null}: the default).
     *
     * @throws IllegalArgumentException for an origin that is not {@code scheme://host[:port]}, or an address that is
     *                                  not an IP address or CIDR block
     */
    public static EdgePolicy of(String corsOrigins, String allowedHosts, String trustedProxies) {
        Set<String> origins = new LinkedHashSet<>();
        for (String o : split(corsOrigins)) {
            if (o.equals("*")) {
                throw new IllegalArgumentException("SLUICE_CORS_ORIGINS lists origins; a wildcard is never allowed");
            }
            String normal = normalizeOrigin(o);
            if (normal == null) {
                throw new IllegalArgumentException("SLUICE_CORS_ORIGINS: not an origin (scheme://host[:port]): " + o);
            }
            origins.add(normal);
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (String h : split(allowedHosts)) {
            hosts.add(h.toLowerCase(Locale.ROOT));
        }
        List<Cidr> proxies = new ArrayList<>();
        for (String p : split(trustedProxies == null || trustedProxies.isBlank() ? DEFAULT_TRUSTED_PROXIES
                : trustedProxies)) {
            proxies.add(Cidr.parse(p));
        }
        return new EdgePolicy(Set.copyOf(origins), Set.copyOf(hosts), List.copyOf(proxies));
    }

    /** Whether {@code method} changes state: anything but GET, HEAD and OPTIONS (RFC 9110 section 9.2.1). */
    public static boolean unsafe(String method) {
        return !(method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS"));
    }

    /**
     * Whether a request may name this {@code Host}: always when no allowlist is set; otherwise when its name, or its
     * {@code name:port}, is listed.
     */
    public boolean hostAllowed(String host) {
        if (allowedHosts.isEmpty()) {
            return true;
        }
        if (host == null || host.isBlank()) {
            return false;
        }
        String h = host.strip().toLowerCase(Locale.ROOT);
        return allowedHosts.contains(h) || allowedHosts.contains(hostName(h));
    }

    /**
     * Whether a browser request with this {@code Origin} may change state or open the WebSocket: no {@code Origin}
     * (not a browser, or a same-origin request of an old browser; see {@link #browserCrossSite}), the server's own
     * origin, or a listed one.
     *
     * @param origin    the {@code Origin} header, or {@code null}
     * @param ownOrigin the origin the request was sent to ({@link #ownOrigin})
     */
    public boolean originAllowed(String origin, String ownOrigin) {
        if (origin == null) {
            return true;
        }
        String o = normalizeOrigin(origin);
        return o != null && (sameAuthority(o, ownOrigin) || corsOrigins.contains(o));
    }

    /**
     * Whether two origins name the same host and port. The scheme is left out, so a TLS-terminating proxy that is not
     * listed in {@code SLUICE_TRUSTED_PROXIES} does not lock its users out ({@code https://chat.example} against a
     * request that arrived as {@code http://chat.example}).
     */
    static boolean sameAuthority(String a, String b) {
        return a != null && b != null && authority(a).equals(authority(b));
    }

    private static String authority(String normalOrigin) {
        return normalOrigin.substring(normalOrigin.indexOf("://") + 3);
    }

    /**
     * Whether a browser says the request comes from another origin's page although it sent no {@code Origin}
     * ({@code Sec-Fetch-Site} other than {@code same-origin} and {@code none}).
     */
    public static boolean browserCrossSite(String secFetchSite) {
        return secFetchSite != null && !secFetchSite.equals("same-origin") && !secFetchSite.equals("none");
    }

    /** Whether a request comes from a browser: it carries {@code Origin} or {@code Sec-Fetch-Site}. */
    public static boolean fromBrowser(String origin, String secFetchSite) {
        return origin != null || secFetchSite != null;
    }

    /** Whether {@code origin} is on the CORS allowlist. */
    public boolean corsAllowed(String origin) {
        String o = normalizeOrigin(origin);
        return o != null && corsOrigins.contains(o);
    }

    /** Whether the peer at {@code remoteAddress} is a trusted proxy. */
    public boolean trustedProxy(String remoteAddress) {
        if (remoteAddress == null) {
            return false;
        }
        for (Cidr cidr : trustedProxies) {
            if (cidr.contains(remoteAddress)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client's address, for per-client limits: the peer's, unless the peer is a trusted proxy; then the
     * right-most {@code X-Forwarded-For} entry that is not a trusted proxy itself (entries further left are written
     * by the client and prove nothing).
     */
    public String clientAddress(String remoteAddress, String forwardedFor) {
        if (forwardedFor == null || !trustedProxy(remoteAddress)) {
            return remoteAddress;
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].strip();
            if (!hop.isEmpty() && !trustedProxy(hop)) {
                return hop;
            }
        }
        return remoteAddress;
    }

    /**
     * Whether the client reached Sluice over HTTPS: the connection is TLS, or a trusted proxy says
     * {@code X-Forwarded-Proto: https}.
     */
    public boolean secure(boolean tls, String remoteAddress, String forwardedProto) {
        return tls || (forwardedProto != null && trustedProxy(remoteAddress)
                && first(forwardedProto).equalsIgnoreCase("https"));
    }

    /**
     * The origin a request was sent to: its scheme ({@code https} when {@link #secure}) and its {@code Host}, or a
     * trusted proxy's {@code X-Forwarded-Host}.
     */
    public String ownOrigin(boolean secure, String host, String remoteAddress, String forwardedHost) {
        String h = forwardedHost != null && trustedProxy(remoteAddress) ? first(forwardedHost) : host;
        return normalizeOrigin((secure ? "https" : "http") + "://" + (h == null ? "" : h.strip()));
    }

    /** {@code scheme://host[:port]} in lower case without the default port, or {@code null} when not an origin. */
    public static String normalizeOrigin(String origin) {
        if (origin == null) {
            return null;
        }
        try {
            URI uri = new URI(origin.strip());
            String scheme = uri.getScheme();
            String host = uri.getHost();
            if (scheme == null || host == null || (uri.getPath() != null && !uri.getPath().isEmpty()
                    && !uri.getPath().equals("/")) || uri.getQuery() != null || uri.getUserInfo() != null) {
                return null;
            }
            scheme = scheme.toLowerCase(Locale.ROOT);
            int port = uri.getPort();
            boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80)
                    || (scheme.equals("https") && port == 443);
            return scheme + "://" + host.toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static String hostName(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 || host.indexOf(':') != colon ? host : host.substring(0, colon);
    }

    private static String first(String headerValue) {
        int comma = headerValue.indexOf(',');
        return (comma < 0 ? headerValue : headerValue.substring(0, comma)).strip();
    }

    private static List<String> split(String value) {
        List<String> parts = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    parts.add(part.strip());
                }
            }
        }
        return parts;
    }

    /**
     * An IP address block (RFC 4632 notation; a bare address is a block of one).
     *
     * @param network the block's address bytes (4 or 16)
     * @param bits    the prefix length
     */
    public record Cidr(byte[] network, int bits) {

        /** @throws IllegalArgumentException when {@code text} is not a literal IP address or CIDR block */
        public static Cidr parse(String text) {
            int slash = text.indexOf('/');
            byte[] address = literal(slash < 0 ? text : text.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("not an IP address or CIDR block: " + text);
            }
            int bits = address.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not a CIDR block: " + text);
                }
                if (bits < 0 || bits > address.length * 8) {
                    throw new IllegalArgumentException("not a CIDR block: " + text);
                }
            }
            return new Cidr(address, bits);
        }

        /** Whether the literal address {@code address} is in this block; a host name never is. */
        public boolean contains(String address) {
            byte[] a = literal(address);
            if (a == null || a.length != network.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >>> (i % 8);
                if ((a[i / 8] & mask) != (network[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }

        /** The bytes of an IP literal, without any DNS lookup; {@code null} for anything else. */
        private static byte[] literal(String text) {
            String t = text.strip();
            if (t.startsWith("[") && t.endsWith("]")) {
                t = t.substring(1, t.length() - 1);
            }
            boolean v4 = t.matches("\\d{1,3}(\\.\\d{1,3}){3}");
            boolean v6 = t.contains(":") && t.matches("[0-9a-fA-F:.%a-zA-Z0-9]+");
            if (!v4 && !v6) {
                return null;
            }
            try {
                return InetAddress.getByName(t).getAddress(); // a literal: no lookup
            } catch (UnknownHostException e) {
                return null;
            }
        }
    }
}
