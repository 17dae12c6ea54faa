package io.sluice.operations.control;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;

/**
 * One run of the retention job (API.md section 13; seed 001: clean up data older than 30 days), as a series of
 * bounded transactions: each {@link #next()} deletes at most {@code batchSize} rows of its phase and commits. Plain
 * JDBC on the application's data source, so that it runs alike on Payara, WildFly and Tomcat and under either JPA
 * provider (the persistence unit keeps no shared cache that could hold a deleted row).
 *
 * <p>The phases, in order:
 * <ol>
 *   <li><b>conversations</b> whose {@code updated_at} (bumped by every new message, answer, rename and title) is
 *       before the cutoff, oldest first, each deleted with its messages, its stream records and its agent runs;</li>
 *   <li><b>stream records with no conversation</b> created before the cutoff: those that never had one
 *       ({@code generate}, {@code completion}, {@code topic_title}, {@code prompt_optimization},
 *       {@code system_prompt}) and those whose conversation its user deleted;</li>
 *   <li><b>agent runs with no conversation</b> created before the cutoff (their conversation was deleted).</li>
 * </ol>
 * No stream older than a day is still running ({@code SLUICE_STREAM_MAX_SECONDS} bounds a stream, and a record that a
 * crash left open is closed at the next start or by another node of the cluster), so the cutoff never reaches a
 * running stream.
 *
 * <p><b>Every node at once.</b> Each batch claims its rows with {@code SELECT ... FOR UPDATE SKIP LOCKED} (PostgreSQL
 * 9.5+, H2 2.x): runs on several nodes at the same time claim disjoint rows and never wait for each other, so each row
 * is deleted once and no run fails for another's sake. A conversation that a user's request holds locked
 * ({@code ConversationStore.getLocked}) is skipped, not waited for. The phases of streams and runs page with a key
 * ({@code created_at, id}), so the records they keep (those of conversations still in use) are read once per run, not
 * once per batch.
 *
 * <p>Not thread-safe: one run, one thread at a time (each batch may run on another thread of the pool).
 */
public final class RetentionSweep {

    /** What was deleted, summed over batches. All counts are rows. */
    public record Deleted(int conversations, int messages, int conversationStreams, int conversationRuns,
                          int detachedStreams, int detachedRuns) {

        static final Deleted NONE = new Deleted(0, 0, 0, 0, 0, 0);

        Deleted plus(Deleted o) {
            return new Deleted(conversations + o.conversations, messages + o.messages,
                    conversationStreams + o.conversationStreams, conversationRuns + o.conversationRuns,
                    detachedStreams + o.detachedStreams, detachedRuns + o.detachedRuns);
        }

        /** Every stream record deleted, with a conversation and without. */
        public int streams() {
            return conversationStreams + detachedStreams;
        }

        /** Every agent run deleted, with a conversation and without. */
        public int runs() {
            return conversationRuns + detachedRuns;
        }

        /** Whether nothing was deleted. */
        public boolean isEmpty() {
            return equals(NONE);
        }
    }

    private enum Phase { CONVERSATIONS, STREAMS, RUNS, DONE }

    private final DataSource dataSource;
    private final OffsetDateTime cutoff;
    private final int batchSize;
    private Phase phase = Phase.CONVERSATIONS;
    /** The key of the last detached record read in the current phase, or {@code null} before the first batch. */
    private OffsetDateTime lastCreated;
    private String lastId;
    private Deleted total = Deleted.NONE;
    private int batches;

    /**
     * @param cutoff    rows untouched (conversations) or created (records without a conversation) before this instant
     *                  are deleted; rows at or after it are kept
     * @param batchSize the most rows one transaction claims in a phase (conversations, stream records or runs), at
     *                  least 1
     * @throws IllegalArgumentException when {@code batchSize} is below 1
     */
    public RetentionSweep(DataSource dataSource, Instant cutoff, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
        }
        this.dataSource = dataSource;
        this.cutoff = cutoff.atOffset(ZoneOffset.UTC);
        this.batchSize = batchSize;
    }

    /** Whether every phase is through: {@link #next()} has nothing left to do. */
    public boolean done() {
        return phase == Phase.DONE;
    }

    /** What the batches so far deleted. */
    public Deleted deleted() {
        return total;
    }

    /** The transactions committed so far (batches that found nothing to delete included). */
    public int batches() {
        return batches;
    }

    /** The cutoff instant. */
    public Instant cutoff() {
        return cutoff.toInstant();
    }

    /**
     * Deletes the next batch in one transaction and commits it; a batch that claims nothing ends its phase (rows it
     * could not claim are held by another run, which deletes them, or by a request, and wait for the next run). Not
     * "fewer than the batch size": H2 applies {@code FETCH FIRST} before it skips locked rows, so there a batch beside
     * another run's may come back short while more rows wait.
     *
     * @return what this batch deleted
     * @throws SQLException when the database refuses; the batch is rolled back, the batches before it stay committed
     * @throws IllegalStateException when the run is {@link #done()}
     */
    public Deleted next() throws SQLException {
        if (phase == Phase.DONE) {
            throw new IllegalStateException("the run is done");
        }
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Deleted batch = switch (phase) {
                    case CONVERSATIONS -> conversations(c);
                    case STREAMS -> detached(c, "streams", true);
                    case RUNS -> detached(c, "agent_runs", false);
                    case DONE -> throw new IllegalStateException();
                };
                c.commit();
                batches++;
                total = total.plus(batch);
                return batch;
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }

    /** Runs {@link #next()} until {@link #done()}, on the calling thread, and returns the total. */
    public Deleted all() throws SQLException {
        while (!done()) {
            next();
        }
        return total;
    }

    private Deleted conversations(Connection c) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement claim = c.prepareStatement("SELECT id FROM conversations WHERE updated_at < ? "
                + "ORDER BY updated_at FETCH FIRST " + batchSize + " ROWS ONLY FOR UPDATE SKIP LOCKED")) {
            claim.setObject(1, cutoff);
            try (ResultSet r = claim.executeQuery()) {
                while (r.next()) {
                    ids.add(r.getString(1));
                }
            }
        }
        if (ids.isEmpty()) {
            phase = Phase.STREAMS;
            return Deleted.NONE;
        }
        int messages = deleteWhereIn(c, "DELETE FROM messages WHERE conversation_id", ids);
        int streams = deleteWhereIn(c, "DELETE FROM streams WHERE conversation_id", ids);
        int runs = deleteWhereIn(c, "DELETE FROM agent_runs WHERE conversation_id", ids);
        int conversations = deleteWhereIn(c, "DELETE FROM conversations WHERE id", ids);
        return new Deleted(conversations, messages, streams, runs, 0, 0);
    }

    /**
     * One batch of the records of {@code table} (streams or agent runs) created before the cutoff whose conversation
     * is none or gone, after the last key read.
     */
    private Deleted detached(Connection c, String table, boolean streams) throws SQLException {
        String after = lastCreated == null ? "" : " AND (t.created_at > ? OR (t.created_at = ? AND t.id > ?))";
        List<String> ids = new ArrayList<>();
        try (PreparedStatement claim = c.prepareStatement("SELECT t.id, t.created_at FROM " + table + " t "
                + "WHERE t.created_at < ?" + after + " AND (t.conversation_id IS NULL OR NOT EXISTS "
                + "(SELECT 1 FROM conversations c WHERE c.id = t.conversation_id)) "
                + "ORDER BY t.created_at, t.id FETCH FIRST " + batchSize + " ROWS ONLY FOR UPDATE SKIP LOCKED")) {
            claim.setObject(1, cutoff);
            if (lastCreated != null) {
                claim.setObject(2, lastCreated);
                claim.setObject(3, lastCreated);
                claim.setString(4, lastId);
            }
            try (ResultSet r = claim.executeQuery()) {
                while (r.next()) {
                    ids.add(r.getString(1));
                    lastId = r.getString(1);
                    lastCreated = r.getObject(2, OffsetDateTime.class);
                }
            }
        }
        if (ids.isEmpty()) {
            phase = streams ? Phase.RUNS : Phase.DONE;
            lastCreated = null;
            lastId = null;
            return Deleted.NONE;
        }
        int deleted = deleteWhereIn(c, "DELETE FROM " + table + " WHERE id", ids);
        return streams ? new Deleted(0, 0, 0, 0, deleted, 0) : new Deleted(0, 0, 0, 0, 0, deleted);
    }

    /** {@code sql IN (?, ?, ...)} with {@code ids} bound. */
    private static int deleteWhereIn(Connection c, String sql, List<String> ids) throws SQLException {
        try (PreparedStatement delete = c.prepareStatement(sql + " IN ("
                + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")")) {
            for (int i = 0; i < ids.size(); i++) {
                delete.setString(i + 1, ids.get(i));
            }
            return delete.executeUpdate();
        }
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }
}
