package io.sluice.operations.control;

import io.sluice.platform.control.Database;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The retention job (API.md section 13; seed 001: clean up data older than 30 days): conversations untouched for
 * {@code SLUICE_RETENTION_DAYS} days (default 30; {@code 0} keeps everything) are deleted with their messages, stream
 * records and agent runs, and so are stream records and runs with no conversation created that long ago
 * ({@link RetentionSweep} says exactly what, and why several nodes may run it at once).
 *
 * <p>It runs {@value #FIRST_RUN_DELAY_SECONDS} s after start-up, then every 24 hours, on every node. The timer
 * ({@link ManagedExecutors#timers()}) only hands the run to the database pool; there each batch of at most
 * {@value #BATCH} rows is one task and one transaction, and the next batch is queued behind the saves that arrived
 * meanwhile, so a large backlog never holds a database thread for long. One run at a time per node: a run still going
 * when the next is due makes the next one skip. What each run deleted is logged; a failed batch is logged, ends that
 * run, and the next day's run picks up what is left.
 */
@ApplicationScoped
public class Retention {

    /** Rows one transaction claims per phase (conversations, stream records, agent runs). */
    static final int BATCH = 500;
    /** Delay of the first run after start-up, in seconds. */
    static final long FIRST_RUN_DELAY_SECONDS = 60;
    /** Period of the runs. */
    static final Duration PERIOD = Duration.ofHours(24);

    private static final Logger LOG = Logger.getLogger(Retention.class.getName());

    @Resource(lookup = Database.JNDI_NAME)
    DataSource dataSource;
    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;

    private Clock clock = Clock.systemUTC();
    private int days = -1;
    private int batchSize = BATCH;
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile boolean stopped;
    private ScheduledFuture<?> schedule;

    /** For CDI. */
    public Retention() {
    }

    /**
     * For tests: a job on {@code dataSource} whose "now" is {@code clock}'s, run with {@link #runNow()}.
     *
     * @param days as {@code SLUICE_RETENTION_DAYS}: 0 keeps everything
     */
    Retention(DataSource dataSource, Clock clock, int days, int batchSize) {
        this.dataSource = dataSource;
        this.clock = clock;
        this.days = days;
        this.batchSize = batchSize;
    }

    /**
     * Reads {@code SLUICE_RETENTION_DAYS} at deployment (a negative or non-numeric value fails it) and schedules the
     * runs, unless it is 0.
     */
    void onStart(@Observes @Initialized(ApplicationScoped.class) Object started) {
        days = config.retentionDays();
        if (days == 0) {
            LOG.info("SLUICE_RETENTION_DAYS is 0: conversations are kept forever");
            return;
        }
        schedule = executors.timers().scheduleAtFixedRate(this::due, FIRST_RUN_DELAY_SECONDS,
                PERIOD.toSeconds(), TimeUnit.SECONDS);
        LOG.info(() -> "conversations untouched for " + days + " days are deleted daily, first in "
                + FIRST_RUN_DELAY_SECONDS + " s");
    }

    @PreDestroy
    void stop() {
        stopped = true;
        if (schedule != null) {
            schedule.cancel(false);
        }
    }

    /**
     * The cutoff of a run at {@code now}: rows untouched since before it go.
     *
     * @param days as {@code SLUICE_RETENTION_DAYS}
     * @return empty when {@code days} is 0 (keep forever)
     */
    static Optional<Instant> cutoff(Instant now, int days) {
        return days == 0 ? Optional.empty() : Optional.of(now.minus(Duration.ofDays(days)));
    }

    /**
     * One whole run now, on the calling thread, every batch in turn.
     *
     * @return what it deleted; empty when retention is off ({@code 0} days)
     * @throws SQLException as {@link RetentionSweep#next()}
     */
    Optional<RetentionSweep.Deleted> runNow() throws SQLException {
        Optional<Instant> cutoff = cutoff(clock.instant(), days);
        if (cutoff.isEmpty()) {
            return Optional.empty();
        }
        long start = System.nanoTime();
        RetentionSweep sweep = new RetentionSweep(dataSource, cutoff.get(), batchSize);
        sweep.all();
        log(sweep, start);
        return Optional.of(sweep.deleted());
    }

    /** On a timer thread: hands a new run to the database pool, unless one is still going. */
    private void due() {
        if (stopped) {
            return;
        }
        if (!running.compareAndSet(false, true)) {
            LOG.warning("the retention run of the previous period is still going: this one is skipped");
            return;
        }
        Instant cutoff = cutoff(clock.instant(), days).orElseThrow();
        step(new RetentionSweep(dataSource, cutoff, batchSize), System.nanoTime(), true);
    }

    /** Queues the next batch of {@code sweep} on the database pool, or runs it ({@code queue} false: on that pool). */
    private void step(RetentionSweep sweep, long start, boolean queue) {
        if (queue) {
            try {
                executors.database().execute(() -> step(sweep, start, false));
            } catch (RejectedExecutionException shuttingDown) {
                running.set(false);
            }
            return;
        }
        try {
            if (stopped) {
                LOG.info(() -> "the retention run stops with the application after " + sweep.batches() + " batches: "
                        + describe(sweep.deleted()));
                running.set(false);
                return;
            }
            sweep.next();
            if (!sweep.done()) {
                step(sweep, start, true);
                return;
            }
            log(sweep, start);
        } catch (SQLException | RuntimeException e) {
            LOG.log(Level.WARNING, "a retention batch failed after " + sweep.batches() + " committed batches ("
                    + describe(sweep.deleted()) + "); the next run goes on", e);
        }
        running.set(false);
    }

    private void log(RetentionSweep sweep, long start) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        LOG.info(() -> "retention (" + days + " days, before " + sweep.cutoff() + "): " + describe(sweep.deleted())
                + "; " + sweep.batches() + " transactions, " + ms + " ms");
    }

    private static String describe(RetentionSweep.Deleted d) {
        return "deleted " + d.conversations() + " conversations with " + d.messages() + " messages, "
                + d.conversationStreams() + " stream records and " + d.conversationRuns() + " agent runs; "
                + d.detachedStreams() + " stream records and " + d.detachedRuns() + " agent runs without a conversation";
    }
}
