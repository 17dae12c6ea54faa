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
            s.executeUpdate("INSERT INTO conversations (id, owner, title, next_seq, created_at, updated_at) VALUES "
                    + "('conv', 'u', 't', 3, TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00', "
                    + "TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00')");
            s.executeUpdate("INSERT INTO messages (id, conversation_id, seq, role, content, status, created_at, "
                    + "updated_at) VALUES ('q', 'conv', 1, 'user', 'hi', 'completed', CURRENT_TIMESTAMP, "
                    + "CURRENT_TIMESTAMP)");
            s.executeUpdate("INSERT INTO streams (id, type, owner, conversation_id, status, message_id, answer_seq, "
                    + "parent_id, created_at) VALUES ('d', 'chat', 'u', 'conv', 'connecting', 'ans', 2, 'q', "
                    + "CURRENT_TIMESTAMP)");
            s.executeUpdate("INSERT INTO agent_runs (id, owner, task, agents, status, created_at) VALUES "
                    + "('r', 'u', 't', 'planner', 'running', CURRENT_TIMESTAMP)");

            Instant now = Instant.parse("2026-03-01T12:00:00Z");
            assertArrayEquals(new int[] {3, 1}, Database.closeOrphans(c, now));
            assertEquals("a:error:server_crashed b:error:server_crashed c:completed:null d:error:server_crashed",
                    rows(s, "SELECT id, status, end_reason FROM streams WHERE ended_at IS NOT NULL ORDER BY id"));
            assertEquals("r:partial:server_crashed", rows(s, "SELECT id, status, end_reason FROM agent_runs"));
            assertEquals("ans:partial:q", rows(s, "SELECT id, status, parent_id FROM messages WHERE seq = 2"),
                    "the lost answer shows as interrupted, in its place");
            try (ResultSet r = s.executeQuery("SELECT updated_at FROM conversations WHERE id = 'conv'")) {
                r.next();
                assertEquals(now, r.getObject(1, java.time.OffsetDateTime.class).toInstant(),
                        "the new message touched its conversation (retention counts from there)");
            }
            assertArrayEquals(new int[] {0, 0}, Database.closeOrphans(c, Instant.now()), "a second start closes nothing");
            assertEquals("2", rows1(s, "SELECT COUNT(*) FROM messages"), "and writes nothing twice");
        }
    }

    private static String rows1(Statement s, String sql) throws Exception {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
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
