package io.sluice.streams.control;

import static io.sluice.streams.control.StreamCluster.nodeChannel;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.ThrottledWarning;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@link Control} messages between the nodes of a cluster (issue 10): each node listens on its own channel
 * ({@link StreamCluster#nodeChannel}) and on the channel of messages to every node ({@link StreamCluster#BROADCAST});
 * a message is encoded and decoded with {@link Control}'s codec and handed, on the
 * work pool, to every handler registered for its type. Sending never waits.
 */
@ApplicationScoped
public class ControlBus {

    private static final Logger LOG = Logger.getLogger(ControlBus.class.getName());
    /** Once per control message sent while Redis is down (a stop, a tab's connection): written once a minute. */
    private static final ThrottledWarning SEND_FAILED = new ThrottledWarning(LOG);

    @Inject
    Redis redis;
    @Inject
    ManagedExecutors executors;

    private final ConcurrentHashMap<Class<?>, List<Consumer<Control>>> handlers = new ConcurrentHashMap<>();

    /**
     * Listens on this node's channel; while Redis cannot be reached it tries again every 5 s.
     */
    void listen() {
        try {
            redis.subscribe(nodeChannel(redis.nodeId()), this::received);
            redis.subscribe(StreamCluster.BROADCAST, this::received);
        } catch (IllegalStateException e) {
            LOG.warning(() -> "the cluster's control channel is not subscribed yet (" + e.getMessage()
                    + "); trying again in 5 s");
            try {
                executors.timers().schedule(this::listen, 5, TimeUnit.SECONDS);
            } catch (RejectedExecutionException stopping) {
                // the node is going away
            }
        }
    }

    /**
     * Hands the messages of type {@code type} sent to this node to {@code handler}, on the work pool (after the
     * handlers registered before it).
     */
    <C extends Control> void on(Class<C> type, Consumer<? super C> handler) {
        handlers.computeIfAbsent(type, t -> new CopyOnWriteArrayList<>()).add(m -> handler.accept(type.cast(m)));
    }

    /** Sends {@code message} to {@code node}, without waiting; a failure is logged. */
    void send(String node, Control message) {
        try {
            redis.commands().publish(nodeChannel(node), Control.encode(message));
        } catch (IllegalStateException e) {
            SEND_FAILED.warn(() -> "a control message could not be sent: " + e.getMessage());
        }
    }

    /** Sends {@code message} to every node (this one too), without waiting; a failure is logged. */
    void broadcast(Control message) {
        try {
            redis.commands().publish(StreamCluster.BROADCAST, Control.encode(message));
        } catch (IllegalStateException e) {
            SEND_FAILED.warn(() -> "a control message to every node could not be sent: " + e.getMessage());
        }
    }

    /** A message for this node; runs off the Redis I/O thread, hands the handling to the work pool. */
    private void received(String text) {
        Control message;
        try {
            message = Control.decode(text);
        } catch (IllegalArgumentException e) {
            LOG.warning(() -> "a control message was ignored: " + e.getMessage());
            return;
        }
        List<Consumer<Control>> told = handlers.getOrDefault(message.getClass(), List.of());
        try {
            executors.work().execute(() -> {
                for (Consumer<Control> handler : told) {
                    try {
                        handler.accept(message);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "a control message could not be handled: " + text, e);
                    }
                }
            });
        } catch (RejectedExecutionException stopping) {
            // the node is going away: its streams are being stopped anyway
        }
    }
}
