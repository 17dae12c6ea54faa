package io.sluice.platform.control;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The application's two thread pools, whose threads come from the container's {@link ManagedThreadFactory}
 * (Jakarta Concurrency): container-managed threads, with the application's context captured once per
 * thread rather than once per task.
 *
 * <p>Why not a {@code ManagedExecutorService}: Payara captures and restores the context for every task
 * submitted to one, with a {@code ServiceLoader} scan each time; stream work submits a task per event and
 * per flush, and under load that scan took a third of the CPU, serialized on a jar-file lock (benchmark in
 * {@code src/test/java/io/sluice/bench}). Its default scheduled executor also runs every timer on one
 * thread.
 *
 * <ul>
 *   <li>{@link #work()}: stream work (starting generations, writing SSE events, the upstream HTTP client's
 *       callbacks, saving results); {@code SLUICE_STREAM_THREADS} threads (default 64). No task waits for
 *       an upstream; a write blocks only while a client's socket buffer is full, and the connection guard
 *       forgets such a connection after two heartbeat periods.</li>
 *   <li>{@link #timers()}: timers (coalescing ticks, heartbeats, idle timeouts, grace periods, the simulated
 *       model's pace); 2 threads. Timer tasks only touch memory and hand work to {@link #work()}.</li>
 * </ul>
 */
@ApplicationScoped
public class ManagedExecutors {

    @Resource
    ManagedThreadFactory threads;
    @Inject
    SluiceConfig config;

    private ThreadPoolExecutor work;
    private ScheduledThreadPoolExecutor timers;

    @PostConstruct
    void start() {
        int size = config.streamThreads();
        work = new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), threads);
        work.allowCoreThreadTimeOut(true);
        timers = new ScheduledThreadPoolExecutor(2, threads);
        timers.setRemoveOnCancelPolicy(true);
        timers.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** The stream work pool. */
    public ExecutorService work() {
        return work;
    }

    /** The timer pool. */
    public ScheduledExecutorService timers() {
        return timers;
    }

    @PreDestroy
    void stop() {
        timers.shutdownNow();
        work.shutdown();
        try {
            work.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        work.shutdownNow();
    }
}
