package io.sluice.identity.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The edge rules of API.md section 12: Host allowlist, same-origin rule, CORS allowlist, HTTPS behind a proxy. */
class EdgePolicyTest {

    private final EdgePolicy open = EdgePolicy.of("", "", "");
    private final EdgePolicy strict = EdgePolicy.of("https://portal.example.com, http://localhost:3000",
            "chat.example.com,localhost", "10.0.0.0/8");

    @Test
    void originsAreComparedAsSerializations() {
        assertEquals("https://chat.example.com", EdgePolicy.normalizeOrigin("HTTPS://Chat.Example.com:443"));
        assertEquals("http://localhost:8080", EdgePolicy.normalizeOrigin("http://localhost:8080/"));
        assertNull(EdgePolicy.normalizeOrigin("null"));
        assertNull(EdgePolicy.normalizeOrigin("http://a.example/path"));
    }

    @Test
    void stateChangingRequestsNeedTheOwnOrAListedOrigin() {
        String own = open.ownOrigin(false, "localhost:8080", "127.0.0.1", null);
        assertEquals("http://localhost:8080", own);
        assertTrue(open.originAllowed(null, own), "no Origin: not a browser");
        assertTrue(open.originAllowed("http://localhost:8080", own));
        assertTrue(open.originAllowed("https://localhost:8080", own), "a TLS proxy that is not trusted");
        assertFalse(open.originAllowed("http://localhost:9999", own), "same site, another port");
        assertFalse(open.originAllowed("http://127.0.0.1:8080", own), "another host name");
        assertFalse(open.originAllowed("null", own), "sandboxed frames and file: pages");
        assertTrue(strict.originAllowed("https://portal.example.com", "http://chat.example.com"));
        assertFalse(strict.originAllowed("http://portal.example.com", "http://chat.example.com"), "scheme counts");
    }

    @Test
    void browsersThatOmitOriginAreRecognizedByFetchMetadata() {
        assertTrue(EdgePolicy.browserCrossSite("cross-site"));
        assertTrue(EdgePolicy.browserCrossSite("same-site"));
        assertFalse(EdgePolicy.browserCrossSite("same-origin"));
        assertFalse(EdgePolicy.browserCrossSite("none"));
        assertFalse(EdgePolicy.browserCrossSite(null));
        assertTrue(EdgePolicy.fromBrowser(null, "same-origin"));
        assertFalse(EdgePolicy.fromBrowser(null, null));
    }

    @Test
    void corsListsOriginsNeverAWildcard() {
        assertTrue(strict.corsAllowed("http://localhost:3000"));
        assertFalse(strict.corsAllowed("http://localhost:3001"));
        assertFalse(open.corsAllowed("http://localhost:3000"));
        assertThrows(IllegalArgumentException.class, () -> EdgePolicy.of("*", "", ""));
        assertThrows(IllegalArgumentException.class, () -> EdgePolicy.of("portal.example.com", "", ""));
    }

    @Test
    void theHostAllowlistStopsDnsRebinding() {
        assertTrue(open.hostAllowed("attacker.example"), "no allowlist: any host");
        assertTrue(strict.hostAllowed("chat.example.com"));
        assertTrue(strict.hostAllowed("LOCALHOST:8080"));
        assertFalse(strict.hostAllowed("attacker.example"));
        assertFalse(strict.hostAllowed("attacker.example:8080"));
        assertFalse(strict.hostAllowed(null));
    }

    @Test
    void forwardedHeadersCountOnlyFromTrustedProxies() {
        assertTrue(open.secure(false, "127.0.0.1", "https"), "loopback is trusted by default");
        assertTrue(open.secure(false, "::1", "https, http"));
        assertFalse(open.secure(false, "192.0.2.7", "https"), "anyone may send the header");
        assertTrue(open.secure(true, "192.0.2.7", null), "TLS itself");
        assertTrue(strict.secure(false, "10.1.2.3", "https"));
        assertFalse(strict.secure(false, "127.0.0.1", "https"), "the list replaces the default");
        assertEquals("https://chat.example.com", strict.ownOrigin(true, "internal:8080", "10.1.2.3", "chat.example.com"));
        assertEquals("http://internal:8080", strict.ownOrigin(false, "internal:8080", "192.0.2.7", "chat.example.com"));
        assertThrows(IllegalArgumentException.class, () -> EdgePolicy.of("", "", "proxy.example"));
    }

    @Test
    void theClientAddressComesFromXForwardedForOnlyThroughATrustedProxy() {
        EdgePolicy edge = EdgePolicy.of("", "", "10.0.0.0/8");
        assertEquals("203.0.113.7", edge.clientAddress("10.1.2.3", "198.51.100.1, 203.0.113.7"),
                "the right-most hop the proxy saw; what the client wrote further left proves nothing");
        assertEquals("203.0.113.7", edge.clientAddress("10.1.2.3", "203.0.113.7, 10.9.9.9"), "proxies skipped");
        assertEquals("192.0.2.5", edge.clientAddress("192.0.2.5", "203.0.113.7"), "an untrusted peer's header");
        assertEquals("10.1.2.3", edge.clientAddress("10.1.2.3", null));
    }
}
