package io.sluice.operations.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The retention job (API.md section 13, {@code SLUICE_RETENTION_DAYS}) on the real migrations in H2, with a clock the
 * test sets: what goes (old conversations with their messages, stream records and runs; old records without a
 * conversation) and what stays, the cutoff moving with the clock, bounded batches, {@code 0} keeping everything, the
 * schedule (the timer hands the run to the database pool, one task per batch, no overlapping runs), a conversation
 * locked by a request skipped rather than waited for, and two runs at once deleting each row once. The
 * concurrency check also runs on PostgreSQL, in a schema of its own, where {@code SLUICE_DB_URL} names one (skipped
 * with a message otherwise).
 */
class RetentionTest {

    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    private static DataSource h2() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:retention-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
        return ds;
    }

    private static Instant daysAgo(double days) {
        return NOW.minus(Duration.ofMinutes(Math.round(days * 24 * 60)));
    }

    @Test
    void oldConversationsGoWithEverythingThatHangsOffThemAndRecentOnesStay() throws Exception {
        DataSource ds = h2();
        try (Connection c = ds.getConnection()) {
            conversation(c, "old", daysAgo(31), 3);
            stream(c, "old-chat", "chat", "old", daysAgo(31));
            stream(c, "old-title", "conversation_title", "old", daysAgo(31));
            run(c, "old-run", "old", daysAgo(32));
            conversation(c, "boundary", daysAgo(30), 1); // untouched exactly 30 days: kept
            conversation(c, "recent", daysAgo(29), 2);
            stream(c, "recent-old-chat", "chat", "recent", daysAgo(200)); // an old turn of a conversation in use
            run(c, "recent-old-run", "recent", daysAgo(200));
            stream(c, "generate-old", "generate", null, daysAgo(40));
            stream(c, "topic-old", "topic_title", null, daysAgo(31));
            stream(c, "completion-new", "completion", null, daysAgo(2));
            stream(c, "deleted-conv-old", "chat", "gone", daysAgo(45)); // its user deleted the conversation
            stream(c, "deleted-conv-new", "chat", "gone", daysAgo(5));
            run(c, "run-deleted-conv-old", "gone", daysAgo(60));
            run(c, "run-new", null, daysAgo(3));
        }

        Retention job = new Retention(ds, Clock.fixed(NOW, ZoneOffset.UTC), 30, Retention.BATCH);
        RetentionSweep.Deleted deleted = job.runNow().orElseThrow();
        assertEquals(new RetentionSweep.Deleted(1, 3, 2, 1, 3, 1), deleted);
        try (Connection c = ds.getConnection()) {
            assertEquals("boundary recent", ids(c, "conversations"));
            assertEquals(3, count(c, "SELECT COUNT(*) FROM messages"), "the kept conversations' messages");
            assertEquals(0, count(c, "SELECT COUNT(*) FROM messages WHERE conversation_id = 'old'"));
            assertEquals("completion-new deleted-conv-new recent-old-chat", ids(c, "streams"));
            assertEquals("recent-old-run run-new", ids(c, "agent_runs"));
        }
        assertTrue(job.runNow().orElseThrow().isEmpty(), "a second run at the same time deletes nothing");

        // two days later the conversation untouched for 29 days is past 30, and so is the one at the boundary
        Retention later = new Retention(ds, Clock.fixed(NOW.plus(Duration.ofDays(2)), ZoneOffset.UTC), 30,
                Retention.BATCH);
        assertEquals(new RetentionSweep.Deleted(2, 3, 1, 1, 0, 0), later.runNow().orElseThrow());
        try (Connection c = ds.getConnection()) {
            assertEquals("", ids(c, "conversations"));
            assertEquals("completion-new deleted-conv-new", ids(c, "streams"));
            assertEquals("run-new", ids(c, "agent_runs"));
        }
    }

    @Test
    void eachTransactionClaimsOneBoundedBatch() throws Exception {
        DataSource ds = h2();
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 5; i++) {
                conversation(c, "c" + i, daysAgo(40 + i), 2);
                stream(c, "s" + i, "chat", "c" + i, daysAgo(40 + i));
            }
            for (int i = 0; i < 3; i++) {
                stream(c, "g" + i, "generate", null, daysAgo(50));
            }
            conversation(c, "kept", daysAgo(1), 1);
        }
        RetentionSweep sweep = new RetentionSweep(ds, NOW.minus(Duration.ofDays(30)), 2);
        List<String> batches = new ArrayList<>();
        while (!sweep.done()) {
            RetentionSweep.Deleted d = sweep.next();
            batches.add(d.conversations() + "/" + d.messages() + "/" + d.detachedStreams());
        }
        // conversations 2 + 2 + 1 (an empty batch ends each phase), detached streams 2 + 1, runs none
        assertEquals(List.of("2/4/0", "2/4/0", "1/2/0", "0/0/0", "0/0/2", "0/0/1", "0/0/0", "0/0/0"), batches);
        assertEquals(8, sweep.batches());
        assertEquals(new RetentionSweep.Deleted(5, 10, 5, 0, 3, 0), sweep.deleted());
        try (Connection c = ds.getConnection()) {
            assertEquals("kept", ids(c, "conversations"));
            assertEquals("", ids(c, "streams"));
        }
    }

    @Test
    void zeroDaysKeepsEverything() throws Exception {
        DataSource ds = h2();
        try (Connection c = ds.getConnection()) {
            conversation(c, "ancient", daysAgo(3650), 2);
            stream(c, "generate-ancient", "generate", null, daysAgo(3650));
        }
        assertEquals(Optional.empty(), Retention.cutoff(NOW, 0));
        assertEquals(Optional.of(NOW.minus(Duration.ofDays(30))), Retention.cutoff(NOW, 30));
        assertEquals(Optional.empty(), new Retention(ds, Clock.fixed(NOW, ZoneOffset.UTC), 0, 2).runNow());
        try (Connection c = ds.getConnection()) {
            assertEquals("ancient", ids(c, "conversations"));
            assertEquals(2, count(c, "SELECT COUNT(*) FROM messages"));
            assertEquals("generate-ancient", ids(c, "streams"));
        }
    }

    @Test
    void aConversationThatARequestHoldsIsSkippedNotWaitedFor() throws Exception {
        DataSource ds = h2();
        try (Connection c = ds.getConnection()) {
            conversation(c, "busy", daysAgo(31), 1);
            conversation(c, "idle", daysAgo(31), 1);
        }
        try (Connection request = ds.getConnection()) {
            request.setAutoCommit(false);
            try (Statement s = request.createStatement()) {
                // as ConversationStore.getLocked holds it for the rest of a request's transaction
                s.executeQuery("SELECT id FROM conversations WHERE id = 'busy' FOR UPDATE").close();
            }
            // waiting would end in the database's lock timeout, an error; skipping deletes the other one
            RetentionSweep.Deleted first = new RetentionSweep(ds, NOW.minus(Duration.ofDays(30)), 10).all();
            assertEquals(1, first.conversations());
            try (Connection c = ds.getConnection()) {
                assertEquals("busy", ids(c, "conversations"));
            }
            request.commit();
        }
        assertEquals(1, new RetentionSweep(ds, NOW.minus(Duration.ofDays(30)), 10).all().conversations(),
                "the next run deletes it");
    }

    @Test
    void theTimerOnlyHandsTheRunToTheDatabasePoolOneBatchPerTask() throws Exception {
        DataSource ds = h2();
        try (Connection c = ds.getConnection()) {
            for (int i = 0; i < 5; i++) {
                conversation(c, "c" + i, daysAgo(40), 1);
            }
        }
        List<Object[]> scheduled = new ArrayList<>();
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1) {
            @Override
            public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period,
                                                          TimeUnit unit) {
                scheduled.add(new Object[] {command, initialDelay, period, unit});
                return super.schedule(() -> { }, 1, TimeUnit.DAYS); // run by the test instead
            }
        };
        ArrayDeque<Runnable> queued = new ArrayDeque<>();
        ExecutorService database = new AbstractExecutorService() {
            @Override
            public void execute(Runnable task) {
                queued.add(task);
            }

            @Override
            public void shutdown() {
            }

            @Override
            public List<Runnable> shutdownNow() {
                return List.of();
            }

            @Override
            public boolean isShutdown() {
                return false;
            }

            @Override
            public boolean isTerminated() {
                return false;
            }

            @Override
            public boolean awaitTermination(long timeout, TimeUnit unit) {
                return true;
            }
        };
        Retention job = new Retention(ds, Clock.fixed(NOW, ZoneOffset.UTC), -1, 2);
        job.config = new SluiceConfig() {
            @Override
            public int retentionDays() {
                return 30;
            }
        };
        job.executors = new ManagedExecutors() {
            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }

            @Override
            public ExecutorService database() {
                return database;
            }
        };
        try {
            job.onStart(null);
            assertEquals(1, scheduled.size());
            assertEquals(List.of(60L, 86_400L, TimeUnit.SECONDS), List.of(scheduled.get(0)).subList(1, 4),
                    "a minute after start-up, then every 24 h");
            Runnable due = (Runnable) scheduled.get(0)[0];

            due.run(); // on the timer thread: no database work, one task queued
            assertEquals(1, queued.size());
            try (Connection c = ds.getConnection()) {
                assertEquals(5, count(c, "SELECT COUNT(*) FROM conversations"), "nothing deleted on the timer thread");
            }
            due.run(); // the next period while this run goes on: skipped
            assertEquals(1, queued.size());

            int tasks = 0;
            List<Long> left = new ArrayList<>();
            while (!queued.isEmpty()) {
                queued.poll().run(); // one batch, which queues the next
                tasks++;
                try (Connection c = ds.getConnection()) {
                    left.add(count(c, "SELECT COUNT(*) FROM conversations"));
                }
            }
            // conversations 2 + 2 + 1, then an empty batch per phase (conversations, streams, runs)
            assertEquals(List.of(3L, 1L, 0L, 0L, 0L, 0L), left);
            assertEquals(6, tasks);

            due.run(); // the run is over: the next one starts
            assertEquals(1, queued.size());
        } finally {
            job.stop();
            timers.shutdownNow();
        }
    }

    @Test
    void twoRunsAtOnceDeleteEachRowOnceOnH2() throws Exception {
        DataSource ds = h2();
        for (int round = 0; round < 3; round++) {
            twoRunsAtOnce(ds);
        }
    }

    @Test
    void twoRunsAtOnceDeleteEachRowOnceOnPostgreSql() throws Exception {
        String url = System.getenv("SLUICE_DB_URL");
        assumeTrue(url != null && url.startsWith("jdbc:postgresql:"),
                "SLUICE_DB_URL names no PostgreSQL database: the PostgreSQL run of the concurrency check is skipped");
        String schema = "retention_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        String user = System.getenv("SLUICE_DB_USER");
        if (user != null) {
            ds.setUser(user);
        }
        ds.setPassword(System.getenv("SLUICE_DB_PASSWORD"));
        Flyway.configure().dataSource(ds).schemas(schema).createSchemas(true).locations("classpath:db/migration")
                .load().migrate();
        ds.setCurrentSchema(schema);
        try {
            for (int round = 0; round < 3; round++) {
                twoRunsAtOnce(ds);
            }
        } finally {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    /** Two runs started together on 60 old conversations and 40 old records without one: each row deleted once. */
    private static void twoRunsAtOnce(DataSource ds) throws Exception {
        String round = UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 60; i++) {
                String id = round + "-c" + i;
                conversation(c, id, daysAgo(31 + i % 7), 2);
                stream(c, id + "-s", "chat", id, daysAgo(31 + i % 7));
                run(c, id + "-r", id, daysAgo(31 + i % 7));
            }
            for (int i = 0; i < 30; i++) {
                stream(c, round + "-g" + i, "generate", null, daysAgo(35));
            }
            for (int i = 0; i < 10; i++) {
                run(c, round + "-gone-r" + i, round + "-gone", daysAgo(35));
            }
            conversation(c, round + "-kept", daysAgo(1), 1);
            c.commit();
        }
        Instant cutoff = NOW.minus(Duration.ofDays(30));
        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<RetentionSweep.Deleted>> runs = new ArrayList<>();
            for (int n = 0; n < 2; n++) {
                runs.add(pool.submit(() -> {
                    RetentionSweep sweep = new RetentionSweep(ds, cutoff, 4);
                    together.await(10, TimeUnit.SECONDS);
                    return sweep.all();
                }));
            }
            RetentionSweep.Deleted a = runs.get(0).get(60, TimeUnit.SECONDS);
            RetentionSweep.Deleted b = runs.get(1).get(60, TimeUnit.SECONDS);
            RetentionSweep.Deleted sum = a.plus(b);
            assertEquals(new RetentionSweep.Deleted(60, 120, 60, 60, 30, 10), sum, a + " + " + b);
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = ds.getConnection()) {
            assertEquals(round + "-kept", ids(c, "conversations"));
            assertEquals(1, count(c, "SELECT COUNT(*) FROM messages"));
            assertEquals("", ids(c, "streams"));
            assertEquals("", ids(c, "agent_runs"));
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM messages");
                s.executeUpdate("DELETE FROM conversations");
            }
        }
    }

    // --- rows

    private static void conversation(Connection c, String id, Instant updatedAt, int messages) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO conversations (id, owner, title, next_seq, "
                + "created_at, updated_at) VALUES (?, 'u', 't', ?, ?, ?)")) {
            p.setString(1, id);
            p.setInt(2, messages + 1);
            p.setObject(3, at(updatedAt.minus(Duration.ofDays(1))));
            p.setObject(4, at(updatedAt));
            p.executeUpdate();
        }
        for (int seq = 1; seq <= messages; seq++) {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO messages (id, conversation_id, seq, role, "
                    + "content, status, created_at, updated_at) VALUES (?, ?, ?, 'user', 'hi', 'completed', ?, ?)")) {
                p.setString(1, id + "-m" + seq);
                p.setString(2, id);
                p.setInt(3, seq);
                p.setObject(4, at(updatedAt));
                p.setObject(5, at(updatedAt));
                p.executeUpdate();
            }
        }
    }

    private static void stream(Connection c, String id, String type, String conversationId, Instant createdAt)
            throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO streams (id, type, owner, conversation_id, status, "
                + "created_at, ended_at) VALUES (?, ?, 'u', ?, 'completed', ?, ?)")) {
            p.setString(1, id);
            p.setString(2, type);
            p.setString(3, conversationId);
            p.setObject(4, at(createdAt));
            p.setObject(5, at(createdAt.plusSeconds(5)));
            p.executeUpdate();
        }
    }

    private static void run(Connection c, String id, String conversationId, Instant createdAt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO agent_runs (id, owner, conversation_id, task, agents, "
                + "status, created_at, ended_at) VALUES (?, 'u', ?, 'task', '[\"planner\"]', 'completed', ?, ?)")) {
            p.setString(1, id);
            p.setString(2, conversationId);
            p.setObject(3, at(createdAt));
            p.setObject(4, at(createdAt.plusSeconds(30)));
            p.executeUpdate();
        }
    }

    private static OffsetDateTime at(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    /** The ids of a table, sorted, space-separated. */
    private static String ids(Connection c, String table) throws SQLException {
        TreeSet<String> ids = new TreeSet<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT id FROM " + table)) {
            while (r.next()) {
                ids.add(r.getString(1));
            }
        }
        return String.join(" ", ids);
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
