package io.sluice.platform.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.Resource;
import jakarta.annotation.sql.DataSourceDefinition;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.TransactionManagement;
import jakarta.ejb.TransactionManagementType;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The application's database: the data source travels inside the WAR, and the schema is brought up to date
 * by Flyway migrations ({@code src/main/resources/db/migration}) before any request is served.
 *
 * <p>Defaults to an H2 file database under {@code ./data} (relative to the server's working directory);
 * {@code SLUICE_DB_URL}, {@code SLUICE_DB_USER} and {@code SLUICE_DB_PASSWORD} switch the same WAR to
 * PostgreSQL (API.md section 1). A migration failure fails the deployment.
 */
@DataSourceDefinition(
        name = Database.JNDI_NAME,
        className = "io.sluice.platform.control.JdbcUrlDataSource",
        // no url, user or password here: JdbcUrlDataSource reads SLUICE_DB_URL and the rest through MicroProfile
        // Config, so the annotation holds no server's expression syntax (issue 14)
        minPoolSize = Database.MIN_POOL_SIZE,
        maxPoolSize = Database.MAX_POOL_SIZE,
        // a request waits at most 5 s for a free connection of the pool (Payara's default is 60 s): with the
        // driver's timeouts (JdbcUrlDataSource), an unreachable database fails a request in seconds (issue 11)
        properties = {
                "configPrefix=sluice.db",
                "fish.payara.is-connection-validation-required=true",
                "fish.payara.connection-validation-method=meta-data",
                "fish.payara.max-wait-time-in-millis=" + Database.POOL_WAIT_MILLIS
        })
@Singleton
@Startup
@TransactionManagement(TransactionManagementType.BEAN)
public class Database {

    /**
     * Connections the pool keeps open when idle. Not more (issue 22): with 8, the connections a database outage left
     * dead each failed a request once the database was back (Payara validates a pooled connection by its metadata,
     * which does not reach the server), and FaultsIT's saves retried for 4 s ran out of time. The node's warm-up grows
     * the pool to what a burst needs before the node is ready; Payara keeps idle connections 300 s.
     */
    public static final int MIN_POOL_SIZE = 1;
    /** Most connections of the pool. */
    public static final int MAX_POOL_SIZE = 32;
    /** Longest wait for a free connection of the pool, in ms. */
    public static final int POOL_WAIT_MILLIS = 5000;

    /** JNDI name of the data source; the persistence unit {@code sluice} uses it. */
    public static final String JNDI_NAME = "java:app/jdbc/sluice";

    /** The end reason of what a crash left running. */
    public static final String CRASHED = "server_crashed";

    private static final Logger LOG = Logger.getLogger(Database.class.getName());

    @Resource(lookup = JNDI_NAME)
    DataSource dataSource;
    @Inject
    SharedRecords records;

    @PostConstruct
    void migrate() {
        var result = Flyway.configure(Database.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate();
        LOG.info(() -> "database schema at version " + result.targetSchemaVersion + " ("
                + result.migrationsExecuted + " migrations applied now)");
        closeOrphans();
    }

    /**
     * Closes what a crash left open (issue 11, rule 4): at start-up no stream or agent run of this node is running,
     * so every stream record and run record without an end is ended now, as an {@code error} stream (a
     * {@code partial} run) with end reason {@code server_crashed}, and a chat stream's reserved answer that was never
     * saved is written, empty, {@code partial} and {@code server_crashed}, so the conversation shows it as
     * interrupted rather than missing. Afterwards the state endpoint and the events
     * endpoint agree: both say the stream has ended. Sluice without Redis is one node per database. In a cluster
     * ({@code SLUICE_REDIS_URL}, issue 10) the other nodes' streams are running: only records without a node (written
     * before the cluster issue) are closed here, and a node whose lease expired is taken over by another node
     * ({@code NodeLeases} in {@code streams}). Which of the two holds, {@link SharedRecords} says.
     *
     * @throws IllegalStateException when the database refuses the update; the deployment then fails
     */
    private void closeOrphans() {
        try (Connection c = dataSource.getConnection()) {
            int[] closed = closeOrphans(c, Instant.now(), records.shared());
            if (closed[0] + closed[1] > 0) {
                LOG.warning(() -> "closed " + closed[0] + " stream records and " + closed[1]
                        + " agent runs left running by a crash, as " + CRASHED);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("closing the records a crash left running failed", e);
        }
    }

    /** The updates of {@link #closeOrphans()} on one node: {@code [streams closed, runs closed]}. */
    static int[] closeOrphans(Connection c, Instant now) throws SQLException {
        return closeOrphans(c, now, false);
    }

    /**
     * The updates of {@link #closeOrphans()}: {@code [streams closed, runs closed]}; auto-commit or caller's.
     *
     * @param cluster whether only the records without a node are closed (the others' nodes hold leases)
     */
    static int[] closeOrphans(Connection c, Instant now, boolean cluster) throws SQLException {
        String unowned = cluster ? " AND node_id IS NULL" : "";
        // the answers first: a chat stream's reserved answer that was never saved shows as interrupted, empty
        String lostAnswers = "FROM streams s "
                + "WHERE s.ended_at IS NULL AND s.type = 'chat' AND s.message_id IS NOT NULL "
                + "AND s.answer_seq IS NOT NULL AND s.conversation_id IS NOT NULL "
                + "AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = s.conversation_id) "
                + "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.message_id "
                + "OR (m.conversation_id = s.conversation_id AND m.seq = s.answer_seq))"
                + (cluster ? " AND s.node_id IS NULL" : "");
        // a new message touches its conversation, as every save does (retention counts from updated_at)
        try (PreparedStatement touched = c.prepareStatement("UPDATE conversations SET updated_at = ? "
                + "WHERE updated_at < ? AND id IN (SELECT s.conversation_id " + lostAnswers + ")");
             PreparedStatement answers = c.prepareStatement("INSERT INTO messages (id, conversation_id, seq, role, "
                + "content, status, end_reason, model, stream_id, parent_id, active, created_at, updated_at) "
                + "SELECT s.message_id, s.conversation_id, s.answer_seq, 'assistant', '', 'partial', '" + CRASHED
                + "', s.model, s.id, s.parent_id, TRUE, s.created_at, ? " + lostAnswers)) {
            touched.setTimestamp(1, Timestamp.from(now));
            touched.setTimestamp(2, Timestamp.from(now));
            touched.executeUpdate();
            answers.setTimestamp(1, Timestamp.from(now));
            answers.executeUpdate();
        }
        try (PreparedStatement streams = c.prepareStatement("UPDATE streams SET status = 'error', end_reason = '"
                + CRASHED + "', ended_at = ? WHERE ended_at IS NULL" + unowned);
             PreparedStatement runs = c.prepareStatement("UPDATE agent_runs SET status = 'partial', end_reason = '"
                     + CRASHED + "', ended_at = ? WHERE ended_at IS NULL" + unowned)) {
            streams.setTimestamp(1, Timestamp.from(now));
            runs.setTimestamp(1, Timestamp.from(now));
            return new int[] {streams.executeUpdate(), runs.executeUpdate()};
        }
    }
}
