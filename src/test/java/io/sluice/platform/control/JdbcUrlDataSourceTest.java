package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class JdbcUrlDataSourceTest {

    @Test
    void postgresqlGetsNetworkTimeoutsUnlessTheUrlSetsThem() {
        Properties props = new Properties();
        JdbcUrlDataSource.timeouts("jdbc:postgresql://db:5432/sluice", props, 7);
        assertEquals("7", props.getProperty("connectTimeout"));
        assertEquals("7", props.getProperty("loginTimeout"));
        assertEquals("7", props.getProperty("socketTimeout"));
        assertEquals("true", props.getProperty("tcpKeepAlive"));

        Properties own = new Properties();
        JdbcUrlDataSource.timeouts("jdbc:postgresql://db/sluice?socketTimeout=120&tcpKeepAlive=false", own, 7);
        assertNull(own.getProperty("socketTimeout"), "the URL's own value wins");
        assertNull(own.getProperty("tcpKeepAlive"));
        assertEquals("7", own.getProperty("connectTimeout"));
    }

    @Test
    void theDefaultIsTenSeconds() {
        System.clearProperty("sluice.db.timeout.seconds");
        if (System.getenv("SLUICE_DB_TIMEOUT_SECONDS") == null) {
            assertEquals(10, JdbcUrlDataSource.timeoutSeconds());
        }
        System.setProperty("sluice.db.timeout.seconds", "3");
        try {
            assertEquals(3, JdbcUrlDataSource.timeoutSeconds());
        } finally {
            System.clearProperty("sluice.db.timeout.seconds");
        }
    }
}
