package io.sluice.platform.control;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Tells the application that the node is stopping on SIGTERM, before the server starts to stop, by firing
 * {@link Stopping} synchronously (issue 11, rule 3); then lets the JVM exit as SIGTERM would have.
 *
 * <p>Why: a server's own shutdown (Payara Micro's shutdown hook, and Tomcat's and WildFly's alike) closes the HTTP
 * listener and its open connections first and ends the CDI context last, so an observer of
 * {@code @BeforeDestroyed(ApplicationScoped.class)} can still save the running streams but no longer tell their
 * followers. Measured on Payara Micro 6: the hook closed the connections within milliseconds of SIGTERM. So this
 * class takes SIGTERM itself ({@code sun.misc.Signal}, in the JDK's {@code jdk.unsupported} module): the observers
 * stop and save the running streams and agent runs and wait, at most 10 s, until their followers were sent the
 * terminal event; then {@code System.exit(143)} runs the server's shutdown as before. Where the signal cannot be
 * taken (another JVM, {@code -Xrs}), a JVM shutdown hook fires the same event, racing the server's. On undeploy the
 * previous handler is put back and the hook removed; the {@code BeforeDestroyed} observers still save.
 */
@ApplicationScoped
public class ShutdownSignal {

    private static final Logger LOG = Logger.getLogger(ShutdownSignal.class.getName());
    /** The exit status of a process ended by SIGTERM: 128 + 15. */
    static final int SIGTERM_STATUS = 143;

    /** The event: the node is stopping. Observers run in one thread, in {@code @Priority} order. */
    public record Stopping() {
    }

    @Inject
    Event<Stopping> stopping;

    private final AtomicBoolean fired = new AtomicBoolean();
    private Thread hook;
    private SignalHandler previous;

    void install(@Observes @Initialized(ApplicationScoped.class) Object started) {
        hook = new Thread(this::fire, "sluice-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            previous = Signal.handle(new Signal("TERM"), signal -> {
                Thread stop = new Thread(() -> {
                    fire();
                    System.exit(SIGTERM_STATUS);
                }, "sluice-sigterm");
                stop.start();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.log(Level.INFO, "SIGTERM cannot be taken here; a shutdown hook stops the streams instead", e);
        }
    }

    private void fire() {
        if (!fired.compareAndSet(false, true)) {
            return;
        }
        try {
            stopping.fire(new Stopping());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "stopping the running streams failed", e);
        }
    }

    @PreDestroy
    void uninstall() {
        if (previous != null) {
            try {
                Signal.handle(new Signal("TERM"), previous);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.FINE, "the previous SIGTERM handler could not be put back", e);
            }
        }
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exiting) {
                // the JVM is stopping: the hook runs, or ran
            }
        }
    }
}
