package io.sluice.platform.tomcat;

import jakarta.enterprise.concurrent.ManagedThreadFactory;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code @Resource ManagedThreadFactory} of {@code ManagedExecutors} on Tomcat, which has none: daemon threads
 * named {@code sluice-N}, whose context class loader is the web application's, so that CDI, JPA and the
 * {@code ServiceLoader} find the WAR's classes from them.
 */
final class TomcatThreads implements ManagedThreadFactory {

    private final ClassLoader application;
    private final AtomicInteger count = new AtomicInteger();

    TomcatThreads(ClassLoader application) {
        this.application = application;
    }

    @Override
    public Thread newThread(Runnable task) {
        Thread thread = new Thread(task, "sluice-" + count.incrementAndGet());
        thread.setDaemon(true);
        thread.setContextClassLoader(application);
        return thread;
    }

    @Override
    public ForkJoinWorkerThread newThread(ForkJoinPool pool) {
        ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("sluice-fj-" + count.incrementAndGet());
        thread.setDaemon(true);
        thread.setContextClassLoader(application);
        return thread;
    }
}
