package io.sluice.agents.boundary;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The cross-origin check of {@code /ws/agents} handshakes. */
class OwnerConfiguratorTest {

    @Test
    void sameOriginAndNonBrowserHandshakesPass() {
        assertFalse(OwnerConfigurator.crossOrigin("http://localhost:8080", "localhost:8080"));
        assertFalse(OwnerConfigurator.crossOrigin("https://chat.example.com", "chat.example.com"));
        assertFalse(OwnerConfigurator.crossOrigin("http://chat.example.com", "CHAT.example.com:80"));
        assertFalse(OwnerConfigurator.crossOrigin("http://[::1]:8080", "[::1]:8080"));
        assertFalse(OwnerConfigurator.crossOrigin(null, "localhost:8080"), "no Origin: not a browser");
    }

    @Test
    void otherOriginsAreCrossOrigin() {
        assertTrue(OwnerConfigurator.crossOrigin("http://evil.example", "localhost:8080"));
        assertTrue(OwnerConfigurator.crossOrigin("http://localhost:9999", "localhost:8080"));
        assertTrue(OwnerConfigurator.crossOrigin("https://chat.example.com", "chat.example.com:8443"));
        assertTrue(OwnerConfigurator.crossOrigin("null", "localhost:8080"));
        assertTrue(OwnerConfigurator.crossOrigin("http://localhost:8080", "localhost:notaport"));
    }
}
