package io.sluice.streams.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Drops the logs of other nodes that nobody on this node followed for {@value #IDLE_MILLIS} ms (issue 10): their
 * memory and their news subscription. A client that comes back later gets a new copy from Redis.
 */
@ApplicationScoped
public class IdleSweep {

    private static final Logger LOG = Logger.getLogger(IdleSweep.class.getName());
    /** A copy without followers for this long is dropped, in ms. */
    static final long IDLE_MILLIS = 30_000;
    /** How often it looks, in ms. */
    static final long EVERY_MILLIS = 1_000;

    @Inject
    Mirrors mirrors;

    /** Drops the copies without followers that were last wanted more than {@value #IDLE_MILLIS} ms ago. */
    void sweep() {
        try {
            long now = System.nanoTime();
            for (Mirrors.Followed<?> log : mirrors.all()) {
                if (log.copy.followerCount() == 0
                        && now - log.wantedNanos > TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)) {
                    mirrors.drop(log);
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the sweep of idle copies failed", e);
        }
    }
}
