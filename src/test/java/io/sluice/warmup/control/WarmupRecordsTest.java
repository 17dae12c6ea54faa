package io.sluice.warmup.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** What the end of a warm-up deletes, on the real migrations (H2 in memory). */
class WarmupRecordsTest {

    @Test
    void theRunsOwnersAndStaleWarmUpOwnersAreDeletedAndNobodyElse() throws Exception {
        String url = "jdbc:h2:mem:warmup;DB_CLOSE_DELAY=-1";
        Flyway.configure().dataSource(url, "", "").locations("classpath:db/migration").load().migrate();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            String old = "TIMESTAMP WITH TIME ZONE '2020-01-01 00:00:00+00'";
            for (String[] row : new String[][] {{"mine", "warmup:a", "CURRENT_TIMESTAMP"},
                    {"other-node", "warmup:b", "CURRENT_TIMESTAMP"}, {"crashed", "warmup:c", old},
                    {"user", "anon:d", old}}) {
                s.executeUpdate("INSERT INTO conversations (id, owner, title, next_seq, created_at, updated_at) VALUES "
                        + "('" + row[0] + "', '" + row[1] + "', 't', 2, " + row[2] + ", " + row[2] + ")");
                s.executeUpdate("INSERT INTO messages (id, conversation_id, seq, role, content, status, created_at, "
                        + "updated_at) VALUES ('m-" + row[0] + "', '" + row[0] + "', 1, 'user', 'hi', 'completed', "
                        + row[2] + ", " + row[2] + ")");
                s.executeUpdate("INSERT INTO streams (id, type, owner, conversation_id, status, created_at) VALUES "
                        + "('s-" + row[0] + "', 'chat', '" + row[1] + "', '" + row[0] + "', 'completed', " + row[2] + ")");
                s.executeUpdate("INSERT INTO agent_runs (id, owner, task, agents, status, created_at) VALUES "
                        + "('r-" + row[0] + "', '" + row[1] + "', 't', 'planner', 'completed', " + row[2] + ")");
            }

            int[] deleted = WarmupRecords.delete(c, List.of("warmup:a"), Instant.parse("2021-01-01T00:00:00Z"));

            assertArrayEquals(new int[] {2, 2, 2}, deleted, "this run's rows, and those a dead node left");
            assertEquals("other-node user", ids(s, "SELECT id FROM conversations ORDER BY id"));
            assertEquals("m-other-node m-user", ids(s, "SELECT id FROM messages ORDER BY id"), "messages go too");
            assertEquals("s-other-node s-user", ids(s, "SELECT id FROM streams ORDER BY id"));
            assertEquals("r-other-node r-user", ids(s, "SELECT id FROM agent_runs ORDER BY id"));
            assertThrows(IllegalArgumentException.class,
                    () -> WarmupRecords.delete(c, List.of("anon:d"), Instant.EPOCH), "only warm-up owners");
        }
    }

    private static String ids(Statement s, String sql) throws Exception {
        StringBuilder out = new StringBuilder();
        try (ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                out.append(out.length() == 0 ? "" : " ").append(r.getString(1));
            }
        }
        return out.toString();
    }
}
