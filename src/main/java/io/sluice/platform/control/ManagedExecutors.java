package io.sluice.platform.control;

import jakarta.ejb.Singleton;
import jakarta.enterprise.concurrent.ManagedExecutorDefinition;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorDefinition;

/**
 * The application's own managed thread pools (Jakarta Concurrency 3.0), so that its throughput does not
 * depend on the server's defaults. Measured on Payara Micro 6.2025.10: the default
 * {@code ManagedScheduledExecutorService} runs all timers on one thread (core pool size 0), which would
 * serialize every flush timer, heartbeat and idle check of every stream.
 *
 * <ul>
 *   <li>{@value #STREAMS}: stream work (starting generations, writing SSE events, the upstream HTTP
 *       client's callbacks, saving answers); up to 64 tasks at once. Tasks are short: no task waits for an
 *       upstream, and a write blocks only while a client's socket buffer is full.</li>
 *   <li>{@value #TIMERS}: timers (coalescing flushes, heartbeats, upstream idle timeouts, the simulated
 *       model's pace); up to 4 at once. Timer tasks only touch memory and hand work to {@value #STREAMS}.</li>
 * </ul>
 */
@ManagedExecutorDefinition(name = ManagedExecutors.STREAMS, maxAsync = 64)
@ManagedScheduledExecutorDefinition(name = ManagedExecutors.TIMERS, maxAsync = 4)
@Singleton
public class ManagedExecutors {

    /** JNDI name of the stream work pool. */
    public static final String STREAMS = "java:app/concurrent/sluice-streams";
    /** JNDI name of the timer pool. */
    public static final String TIMERS = "java:app/concurrent/sluice-timers";
}
