package io.sluice.warmup.control;

import io.sluice.identity.control.Owners;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * Deletes what a warm-up wrote (issue 22): the conversations (their messages go with them, {@code ON DELETE CASCADE}
 * in {@code V1}), stream records and agent runs of its owners, and those of any warm-up owner ({@code warmup:} prefix,
 * {@link Owners#forWarmup}) created before {@code staleBefore}, which a node that died while it warmed up left behind.
 * A warm-up running on another node of a cluster started after {@code staleBefore} and is left alone. Plain JDBC on
 * the tables of the Flyway migrations, auto-commit, so it runs on H2 and PostgreSQL under every server.
 */
final class WarmupRecords {

    private static final String[] TABLES = {"streams", "conversations", "agent_runs"};

    private WarmupRecords() {
    }

    /**
     * @param owners      the owner keys of this run ({@code warmup:UUID})
     * @param staleBefore rows of other warm-up owners created before this instant are deleted too
     * @return rows deleted per table: streams, conversations (messages not counted), agent runs
     * @throws SQLException when the database refuses; what was deleted before stays deleted
     */
    static int[] delete(Connection c, List<String> owners, Instant staleBefore) throws SQLException {
        int[] deleted = new int[TABLES.length];
        for (int t = 0; t < TABLES.length; t++) {
            try (PreparedStatement own = c.prepareStatement("DELETE FROM " + TABLES[t] + " WHERE owner = ?")) {
                for (String owner : owners) {
                    if (!owner.startsWith(Owners.WARMUP_PREFIX)) {
                        throw new IllegalArgumentException("not a warm-up owner: " + owner);
                    }
                    own.setString(1, owner);
                    deleted[t] += own.executeUpdate();
                }
            }
            try (PreparedStatement stale = c.prepareStatement("DELETE FROM " + TABLES[t]
                    + " WHERE owner LIKE ? AND created_at < ?")) {
                stale.setString(1, Owners.WARMUP_PREFIX + "%");
                stale.setTimestamp(2, Timestamp.from(staleBefore));
                deleted[t] += stale.executeUpdate();
            }
        }
        return deleted;
    }
}
