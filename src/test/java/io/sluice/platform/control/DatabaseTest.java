package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** The start-up sweep of what a crash left running, on the real migrations (H2 in memory). */
class DatabaseTest {

    @Test
    void recordsLeftRunningAreClosedAsCrashedAndEndedOnesAreLeftAlone() throws Exception {
        String url = "jdbc:h2:mem:orphans;DB_CLOSE_DELAY=-1";
        Flyway.configure().dataSource(url, "", "").locations("classpath:db/migration").load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO streams (id, type, owner, status, created_at) VALUES "
                    + "('a', 'chat', 'u', 'connecting', CURRENT_TIMESTAMP), "
                    + "('b', 'chat', 'u', 'streaming', CURRENT_TIMESTAMP)");
            s.executeUpdate("INSERT INTO streams (id, type, owner, status, end_reason, created_at, ended_at) VALUES "
                    + "('c', 'chat', 'u', 'completed', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)");
            s.executeUpdate("INSERT INTO agent_runs (id, owner, task, agents, status, created_at) VALUES "
                    + "('r', 'u', 't', 'planner', 'running', CURRENT_TIMESTAMP)");

            assertArrayEquals(new int[] {2, 1}, Database.closeOrphans(c, Instant.now()));
            assertEquals("a:error:server_crashed b:error:server_crashed c:completed:null",
                    rows(s, "SELECT id, status, end_reason FROM streams WHERE ended_at IS NOT NULL ORDER BY id"));
            assertEquals("r:partial:server_crashed", rows(s, "SELECT id, status, end_reason FROM agent_runs"));
            assertArrayEquals(new int[] {0, 0}, Database.closeOrphans(c, Instant.now()), "a second start closes nothing");
        }
    }

    private static String rows(Statement s, String sql) throws Exception {
        StringBuilder out = new StringBuilder();
        try (ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                out.append(out.length() == 0 ? "" : " ").append(r.getString(1)).append(':').append(r.getString(2))
                        .append(':').append(r.getString(3));
            }
        }
        return out.toString();
    }
}
