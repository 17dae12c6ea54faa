package io.sluice.platform.control;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The node's link to Redis when {@code SLUICE_REDIS_URL} is set (issue 10; API.md section 1): one Lettuce connection
 * for commands, which pipelines them (every caller's commands go out in the order issued, without waiting for the
 * replies), and one for pub/sub. Without the setting, {@link #enabled()} is false and nothing connects.
 *
 * <p><b>Connected in the background</b> (issue 21). The first use makes the client (Lettuce's threads, no network:
 * at deployment, on the thread that deploys, as before; made on the timer pool instead, it never connected on Payara)
 * and starts connecting, and returns; no caller ever waits for a connection, so no request thread, and no stream's
 * lock, is held while Redis is down. Until the
 * first connection is made, {@link #commands()} fails at once, and the node tries again at least every
 * {@value #RECONNECT_MAX_MILLIS} ms (on the timer pool, without holding a thread); requests that need Redis then
 * answer 503 {@code cluster-unavailable} at once. Subscriptions made meanwhile are kept and take effect on connection.
 * Once connected, an outage is Lettuce's: commands fail at once (its {@code REJECT_COMMANDS}) instead of queueing
 * without bound, and it reconnects in the background, trying at least every {@value #RECONNECT_MAX_MILLIS} ms;
 * subscriptions are renewed on reconnect. Commands time out after {@value #COMMAND_TIMEOUT_MILLIS} ms.
 *
 * <p>Lettuce runs two I/O threads and two of its own; they are not the container's, so Sluice's work never runs on
 * them: messages are handed to the {@link ManagedExecutors#timers() timer pool}, and callers of {@link #commands()}
 * continue there too ({@code whenCompleteAsync(..., timers)}).
 *
 * <p>The node's id ({@link #nodeId()}) is random per start, so a restarted node is a new node.
 */
@ApplicationScoped
public class Redis {

    private static final Logger LOG = Logger.getLogger(Redis.class.getName());
    /** Timeout of one command, in ms. */
    public static final long COMMAND_TIMEOUT_MILLIS = 2_000;
    /** Longest wait between two tries to reconnect, in ms. */
    static final long RECONNECT_MAX_MILLIS = 1_000;
    /** Most commands queued on the connection at once; past it a command fails (backpressure). */
    static final int REQUEST_QUEUE = 100_000;

    /** {@code SLUICE_REDIS_URL}; empty (no cluster) for an instance made outside the container. */
    @Inject
    @ConfigProperty(name = "sluice.redis.url")
    Optional<String> url = Optional.empty();
    @Inject
    ManagedExecutors executors;

    private final String nodeId = Ids.newId();
    private final Map<String, Consumer<String>> subscriptions = new ConcurrentHashMap<>();
    private volatile ClientResources resources;
    private volatile RedisClient client;
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile StatefulRedisPubSubConnection<String, String> pubSub;
    private volatile boolean closed;
    /** Whether a first connection is being made (or was made). */
    private final AtomicBoolean connecting = new AtomicBoolean();
    /** Whether a failed first try was logged: later ones are not. */
    private volatile boolean failureLogged;

    /** Whether {@code SLUICE_REDIS_URL} is set (and not blank). */
    public boolean enabled() {
        return url.map(String::strip).filter(s -> !s.isEmpty()).isPresent();
    }

    /** This node's id in the cluster: random per start. */
    public String nodeId() {
        return nodeId;
    }

    /**
     * The asynchronous commands of the shared connection; the first use starts connecting, in the background.
     *
     * @throws IllegalStateException at once when Redis is not configured or not connected yet (the message says
     *                               which, without the URL's password)
     */
    public RedisAsyncCommands<String, String> commands() {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            RedisURI uri = startConnecting();
            throw new IllegalStateException("Redis at " + uri.getHost() + ":" + uri.getPort()
                    + " is not connected yet");
        }
        return c.async();
    }

    /**
     * Subscribes {@code listener} to {@code channel} (one listener per channel on this node); the listener is called
     * on the timer pool and must return at once (hand longer work on). Before the first connection is made, the
     * subscription is kept and made when it is.
     *
     * @throws IllegalStateException when Redis is not configured, or the node is stopping
     */
    public void subscribe(String channel, Consumer<String> listener) {
        startConnecting();
        subscriptions.put(channel, listener);
        StatefulRedisPubSubConnection<String, String> ps = pubSub;
        if (ps != null) {
            ps.async().subscribe(channel); // a second SUBSCRIBE of a channel, if the connection just made one, is a no-op
        }
    }

    /** Ends a subscription of {@link #subscribe}. Idempotent. */
    public void unsubscribe(String channel) {
        StatefulRedisPubSubConnection<String, String> ps = pubSub;
        if (subscriptions.remove(channel) != null && ps != null) {
            ps.async().unsubscribe(channel);
        }
    }

    /**
     * Starts the first connection unless it is made or being made; the first caller makes the client (Lettuce's
     * threads, no network) and starts the first try, and no caller waits for Redis.
     *
     * @return Redis's address, for messages
     * @throws IllegalStateException when Redis is not configured, or the node is stopping
     */
    private RedisURI startConnecting() {
        if (closed) {
            throw new IllegalStateException("the node is stopping");
        }
        RedisURI uri = uri();
        if (!connecting.get()) {
            synchronized (this) {
                if (connecting.compareAndSet(false, true)) {
                    connect(uri);
                }
            }
        }
        return uri;
    }

    /** {@code SLUICE_REDIS_URL}, parsed. */
    private RedisURI uri() {
        String value = url.map(String::strip).filter(s -> !s.isEmpty())
                .orElseThrow(() -> new IllegalStateException("SLUICE_REDIS_URL is not set"));
        try {
            return RedisURI.create(value);
        } catch (RuntimeException e) {
            throw new IllegalStateException("SLUICE_REDIS_URL is not a redis:// URL");
        }
    }

    /**
     * One try to make the pub/sub and command connections, without waiting: on success they are published and the
     * kept subscriptions made; on failure it is tried again after {@value #RECONNECT_MAX_MILLIS} ms on the timer pool.
     */
    private synchronized void connect(RedisURI uri) {
        if (closed) {
            return;
        }
        try {
            tryToConnect(uri);
        } catch (RuntimeException | LinkageError e) {
            retry(uri, e);
        }
    }

    private void tryToConnect(RedisURI uri) {
        if (client == null) {
            // Lettuce's own threads, not the container's: Payara cannot make a managed thread from Netty's threads,
            // which start Lettuce's computation threads; nothing of Sluice's runs on them (see #subscribe)
            // after an outage, a try to reconnect at least every second: a node back within a lease period keeps it
            resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
                    .reconnectDelay(Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(RECONNECT_MAX_MILLIS),
                            2, TimeUnit.MILLISECONDS))
                    .build();
            client = RedisClient.create(resources, uri);
            client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(REQUEST_QUEUE)
                    .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(COMMAND_TIMEOUT_MILLIS)))
                    .socketOptions(SocketOptions.builder()
                            .connectTimeout(Duration.ofMillis(COMMAND_TIMEOUT_MILLIS)).build())
                    .build());
        }
        CompletableFuture<StatefulRedisPubSubConnection<String, String>> ps =
                client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture();
        CompletableFuture<StatefulRedisConnection<String, String>> commands =
                client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
        CompletableFuture.allOf(ps, commands).whenComplete((none, failure) -> {
            if (failure == null) {
                try {
                    connected(uri, ps.join(), commands.join());
                    return;
                } catch (RuntimeException e) {
                    failure = e;
                }
            }
            ps.thenAccept(StatefulRedisPubSubConnection::closeAsync); // the half that was made, if one was
            commands.thenAccept(StatefulRedisConnection::closeAsync);
            retry(uri, failure);
        });
    }

    /** Publishes the connections of a try, and makes the subscriptions kept meanwhile; on a Lettuce thread. */
    private void connected(RedisURI uri, StatefulRedisPubSubConnection<String, String> ps,
                           StatefulRedisConnection<String, String> commands) {
        ps.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                Consumer<String> listener = subscriptions.get(channel);
                if (listener == null) {
                    return;
                }
                try {
                    executors.timers().execute(() -> {
                        try {
                            listener.accept(message);
                        } catch (RuntimeException e) {
                            LOG.log(Level.WARNING, "a Redis message on " + channel + " could not be handled", e);
                        }
                    });
                } catch (RejectedExecutionException stopping) {
                    // the node is going away
                }
            }
        });
        synchronized (this) {
            if (closed) {
                ps.closeAsync();
                commands.closeAsync();
                return;
            }
            pubSub = ps;
            connection = commands;
        }
        if (!subscriptions.isEmpty()) {
            ps.async().subscribe(subscriptions.keySet().toArray(String[]::new));
        }
        LOG.info(() -> "connected to Redis at " + uri.getHost() + ":" + uri.getPort() + " as node " + nodeId);
    }

    /** A try failed: the node tries again in {@value #RECONNECT_MAX_MILLIS} ms. */
    private void retry(RedisURI uri, Throwable failure) {
        if (!failureLogged) {
            failureLogged = true;
            LOG.log(Level.WARNING, "Redis at " + uri.getHost() + ":" + uri.getPort() + " cannot be reached ("
                    + failure.getMessage() + "); trying again every " + RECONNECT_MAX_MILLIS + " ms meanwhile",
                    failure instanceof RedisConnectionException || failure.getCause() instanceof RedisConnectionException
                            ? null : failure);
        }
        try {
            executors.timers().schedule(() -> connect(uri), RECONNECT_MAX_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopping) {
            // the node is going away
        }
    }

    /** Whether the command connection is open now (false before the first use and during an outage). */
    public boolean connected() {
        StatefulRedisConnection<String, String> c = connection;
        return c != null && c.isOpen();
    }

    /**
     * The reply to a command of {@link #commands()}, waited for at most {@value #COMMAND_TIMEOUT_MILLIS} ms.
     *
     * @param command issues the command
     * @throws IllegalStateException when Redis cannot be reached, the command failed (its error is the cause), no
     *                               reply came in time, or the wait was interrupted (the interrupt is kept)
     */
    public <T> T await(Supplier<? extends Future<T>> command) {
        return await(command, COMMAND_TIMEOUT_MILLIS);
    }

    private <T> T await(Supplier<? extends Future<T>> command, long timeoutMillis) {
        try {
            return command.get().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Redis", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Redis refused the command: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from Redis within " + timeoutMillis + " ms", e);
        }
    }

    /**
     * {@code PING} within {@code timeoutMillis}, for the readiness check.
     *
     * @return empty when Redis answered, else a short reason without secrets
     */
    public Optional<String> ping(long timeoutMillis) {
        try {
            String pong = await(() -> commands().ping(), timeoutMillis);
            return "PONG".equals(pong) ? Optional.empty() : Optional.of("unexpected answer to PING");
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Closes the connections and Lettuce's threads (undeploy, SIGTERM). */
    @PreDestroy
    synchronized void close() {
        closed = true;
        try {
            if (pubSub != null) {
                pubSub.close();
            }
            if (connection != null) {
                connection.close();
            }
        } finally {
            if (client != null) {
                client.shutdown(0, 2, TimeUnit.SECONDS);
            }
            if (resources != null) {
                resources.shutdown(0, 2, TimeUnit.SECONDS);
            }
        }
    }
}
