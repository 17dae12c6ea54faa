package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Redis connected in the background (issue 21): while it cannot be reached no caller waits for it. */
class RedisTest {

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private Redis redis;

    @AfterEach
    void stop() {
        if (redis != null) {
            redis.close();
        }
        timers.shutdownNow();
    }

    /** A local port on which nothing listens. */
    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void whileRedisCannotBeReachedCommandsFailAtOnceAndSubscriptionsAreKept() throws Exception {
        redis = new Redis();
        redis.url = Optional.of("redis://127.0.0.1:" + closedPort());
        redis.executors = new ManagedExecutors() {
            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }
        };
        // the first call loads the client's classes and starts connecting, in the background
        assertThrows(IllegalStateException.class, () -> redis.commands());
        for (int i = 0; i < 20; i++) { // while the client is made, its first try, and tries again after it failed
            long start = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> redis.commands());
            assertTrue(e.getMessage().contains("not connected yet"), e.getMessage());
            redis.subscribe("sluice:test", message -> { }); // kept for the connection, without waiting
            assertTrue(redis.ping(1_000).isPresent(), "PING fails too");
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMillis < 100, "no caller waits for a connection: " + tookMillis + " ms");
            Thread.sleep(100);
        }
        assertTrue(!redis.connected());
    }

    @Test
    void aRedisThatComesUpLaterIsConnectedInTheBackgroundWithTheSubscriptionsMadeMeanwhile() throws Exception {
        Path server = Stream.of("/usr/bin/redis-server", "/usr/local/bin/redis-server").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(server != null, "no redis-server (Debian's package; .ci/run installs it): skipped");
        int port = closedPort();
        redis = new Redis();
        redis.url = Optional.of("redis://127.0.0.1:" + port);
        redis.executors = new ManagedExecutors() {
            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }
        };
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        redis.subscribe("sluice:test", received::add); // Redis is down: kept
        assertThrows(IllegalStateException.class, () -> redis.commands());
        Thread.sleep(500);
        Process process = new ProcessBuilder(server.toString(), "--port", Integer.toString(port), "--save", "",
                "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!redis.connected() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(redis.connected(), "connected within a few tries of a second");
            assertEquals(Optional.empty(), redis.ping(1_000));
            long listeners = 0;
            while (listeners == 0 && System.nanoTime() < deadline) { // the SUBSCRIBE goes out just after connecting
                listeners = redis.await(() -> redis.commands().publish("sluice:test", "hello"));
                Thread.sleep(listeners == 0 ? 20 : 0);
            }
            assertEquals("hello", received.poll(5, TimeUnit.SECONDS), "the subscription made while down works");
        } finally {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void withoutTheSettingNothingConnects() {
        redis = new Redis();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> redis.commands());
        assertTrue(e.getMessage().contains("SLUICE_REDIS_URL is not set"), e.getMessage());
    }
}
