package io.sluice.platform.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The application's thread pools, whose threads come from the container's {@link ManagedThreadFactory} (Jakarta
 * Concurrency): container-managed threads, with the application's context captured once per thread rather than once
 * per task.
 *
 * <p>Why not a {@code ManagedExecutorService}: Payara captures and restores the context for every task submitted to
 * one, with a {@code ServiceLoader} scan each time; stream work submits a task per event, and under load that scan
 * took a third of the CPU, serialized on a jar-file lock (benchmark in {@code src/test/java/io/sluice/bench}).
 *
 * <p>Each pool does one kind of work, so that no kind waits behind another (issue "the hot path"):
 * <ul>
 *   <li>{@link #work()}: CPU work that never blocks: the upstream HTTP clients' callbacks (parsing bytes, appending
 *       to logs), starting generations, multi-agent scheduling; {@code SLUICE_STREAM_THREADS} threads (default
 *       twice the cores, at least 4).</li>
 *   <li>{@link #writers()}: writes to clients, which block while a client's socket and the server's write queue are
 *       full (a client that stopped reading): SSE events and poll answers; {@code SLUICE_WRITER_THREADS} threads
 *       (default 32). The connection guard reaps a write stuck for two heartbeat periods.</li>
 *   <li>{@link #database()}: the group-committed saves at stream end, and other database work off the request
 *       threads; 4 threads.</li>
 *   <li>{@link #timers()}: the flush ticker, heartbeats, idle timeouts, grace periods, the simulated model's pace;
 *       2 threads, started with the pool. Timer tasks only touch memory and hand work to the other pools; they
 *       also take what the Redis client's own threads receive (issue 10).</li>
 * </ul>
 * Idle threads of the first three end after a minute.
 *
 * <p><b>Bounded queues.</b> Each of the first three queues at most {@code SLUICE_QUEUE_MAX} tasks (default
 * {@value SluiceConfig#DEFAULT_QUEUE_MAX}); one more is refused with a {@link RejectedExecutionException}, as after
 * shutdown. Requests are refused before that: {@link #ensureRoom()}, which new streams and connections call before
 * they change anything, answers 503 once the work or writers queue is three quarters full, so that the rest of the
 * queue is room for the work of what was admitted already. Where that room runs out anyway, the callers that hand
 * work on run it themselves (a {@code Pump}, the simulated model's pace, a stream's start; the JDK's HTTP client falls
 * back to its own pool), so nothing admitted is dropped. The timers' queue holds delayed tasks and is not bounded:
 * it holds a few per stream and connection, which admission bounds.
 */
@ApplicationScoped
public class ManagedExecutors {

    /** Threads of {@link #database()}. */
    static final int DATABASE_THREADS = 4;

    @Resource
    ManagedThreadFactory threads;
    @Inject
    SluiceConfig config;

    private ThreadPoolExecutor work;
    private ThreadPoolExecutor writers;
    private ThreadPoolExecutor database;
    private ScheduledThreadPoolExecutor timers;

    @PostConstruct
    void start() {
        work = pool(config.streamThreads());
        writers = pool(config.writerThreads());
        database = pool(DATABASE_THREADS);
        timers = new ScheduledThreadPoolExecutor(2, threads);
        timers.setRemoveOnCancelPolicy(true);
        timers.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        // made now, in the application's context: threads that are not the container's (the Redis client's) hand
        // their work to the timers, and Payara cannot make a managed thread from such a thread
        timers.prestartAllCoreThreads();
    }

    private ThreadPoolExecutor pool(int size) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(config.queueMax()), threads);
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /**
     * Refuses a request that would add work while the work or writers queue is three quarters full (issue 21, bounded
     * queues); call it before the request changes anything.
     *
     * @throws ProblemException 503 {@code overloaded} with {@code Retry-After: 2}
     */
    public void ensureRoom() {
        for (ExecutorService pool : new ExecutorService[] {work(), writers()}) {
            if (pool instanceof ThreadPoolExecutor p && nearlyFull(p.getQueue())) {
                throw new ProblemException(503, "overloaded", "this node has more work queued than it can take; "
                        + "try again shortly", 2L);
            }
        }
    }

    /** Whether a queue is three quarters full. */
    static boolean nearlyFull(BlockingQueue<?> queue) {
        long size = queue.size();
        long max = size + queue.remainingCapacity();
        return size >= max - max / 4;
    }

    /** CPU work that never blocks. */
    public ExecutorService work() {
        return work;
    }

    /** Writes to clients. */
    public ExecutorService writers() {
        return writers;
    }

    /** Database work off the request threads. */
    public ExecutorService database() {
        return database;
    }

    /** The timer pool. */
    public ScheduledExecutorService timers() {
        return timers;
    }

    @PreDestroy
    void stop() {
        timers.shutdownNow();
        for (ExecutorService pool : new ExecutorService[] {work, writers, database}) {
            pool.shutdown();
        }
        try {
            database.awaitTermination(5, TimeUnit.SECONDS);
            work.awaitTermination(1, TimeUnit.SECONDS);
            writers.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        work.shutdownNow();
        writers.shutdownNow();
        database.shutdownNow();
    }
}
