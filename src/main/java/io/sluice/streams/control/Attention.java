package io.sluice.streams.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The owner's attention across nodes (issue 10): every {@value #EVERY_MILLIS} ms this node tells each generating node
 * which of its running logs have followers here ({@link Control.Attend}), so that its resume grace counts the
 * followers on all nodes; a log followed here is marked wanted for {@link IdleSweep}.
 */
@ApplicationScoped
public class Attention {

    private static final Logger LOG = Logger.getLogger(Attention.class.getName());
    /** How often the followers on this node are reported to the generating nodes, in ms. */
    static final long EVERY_MILLIS = 1_000;

    @Inject
    Mirrors mirrors;
    @Inject
    ControlBus bus;

    /** Reports the logs followed here to their nodes, one message per node. */
    void report() {
        try {
            Map<String, List<String>> byNode = new HashMap<>();
            long now = System.nanoTime();
            for (Mirrors.Followed<?> log : mirrors.all()) {
                if (log.copy.followerCount() > 0) {
                    log.wantedNanos = now;
                    if (!log.copy.ended()) {
                        byNode.computeIfAbsent(log.node, n -> new ArrayList<>()).add(log.id);
                    }
                }
            }
            byNode.forEach((node, ids) -> bus.send(node, new Control.Attend(ids)));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the cluster's attention report failed", e);
        }
    }
}
