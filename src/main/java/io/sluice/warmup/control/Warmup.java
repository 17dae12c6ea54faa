package io.sluice.warmup.control;

import io.sluice.identity.control.OwnTraffic;
import io.sluice.platform.control.Database;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.providers.control.Providers;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Ready means ready (issue 22): a node that has just started runs its hot path in the interpreter, loads and links
 * thousands of classes on first use, builds JSON-B models, metrics, prepared queries and pools lazily, behind locks,
 * and served its first 1,000 streams 20 to 200 times slower than the benchmark's figures. So before
 * {@code /health/ready} says UP, the node warms itself up through its real streaming path: {@link WarmupTraffic}
 * sends {@code SLUICE_WARMUP_STREAMS} streams (chat turns, resumes, polling, {@code /v1}) over loopback HTTP to its
 * own public API, answered by {@link WarmupUpstream}, an OpenAI-compatible upstream in this process (no model is
 * called, nothing is billed). Then it waits until the JIT compiler's backlog has drained, deletes every row the
 * warm-up wrote, forgets the warm-up's model, and resets the metrics, which thus count from the moment the node became
 * ready.
 *
 * <p><b>When it starts.</b> The loopback port is learned at run time: at deployment where the container publishes
 * its plain-HTTP port ({@link ContainerPorts}: Tomcat, WildFly), else from the first plain-HTTP request the
 * application sees (on Payara, the first probe of {@code /health/ready}), whose local address and port it uses.
 * Without either within {@code SLUICE_WARMUP_SECONDS} of deployment (say, a TLS-only listener), it is skipped.
 *
 * <p><b>Bounded.</b> At most {@code SLUICE_WARMUP_SECONDS} (30) after it starts the node is ready, whatever is left;
 * the rest of the warm-up then only finishes its current requests and cleans up. A warm-up that fails (the node does
 * not answer on loopback) makes the node ready too, with the failure in the check's data and the log: it never keeps a
 * node out of service. {@code SLUICE_WARMUP=false} turns it off: the node is ready as soon as its other checks are.
 *
 * <p><b>No bypass for others.</b> The warm-up's requests carry {@link #HEADER} with a token of 256 random bits made
 * for the run, known only to this process and forgotten when the run ends; {@link #admits} accepts it only from an
 * address of this machine. Such a request (and no other) skips the {@code Host} allowlist, the per-address rate
 * limits and identity issuance, and is owned by {@code warmup:UUID}, which no user can be ({@code IdentityFilter}).
 * The warm-up's model name is random too, and after the run it is refused like any unknown model.
 *
 * <p>Liveness is unaffected. Thread-safe.
 */
@ApplicationScoped
public class Warmup implements OwnTraffic {

    /** The request header that carries the run's token. */
    public static final String HEADER = OwnTraffic.HEADER;
    /** Concurrent clients of the warm-up, each one owner. */
    static final int LANES = 32;
    /** Rows of warm-up owners older than this were left by a node that died while it warmed up. */
    static final Duration STALE = Duration.ofHours(1);
    /** How long the end of the warm-up waits for its last streams (and their titles) to end. */
    static final Duration DRAIN = Duration.ofSeconds(10);

    private static final Logger LOG = Logger.getLogger(Warmup.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Where a warm-up is. */
    public enum State {
        /** {@code SLUICE_WARMUP=false}. */
        OFF("off", true),
        /** Deployed; the loopback port is not known yet. */
        WAITING("waiting", false),
        RUNNING("running", false),
        DONE("done", true),
        /** {@code SLUICE_WARMUP_SECONDS} passed before it was done. */
        TIMED_OUT("timed out", true),
        FAILED("failed", true),
        /** No plain-HTTP port was learned within {@code SLUICE_WARMUP_SECONDS} of deployment. */
        SKIPPED("skipped", true);

        private final String wire;
        private final boolean ready;

        State(String wire, boolean ready) {
            this.wire = wire;
            this.ready = ready;
        }

        /** The state as the readiness check's data names it. */
        public String wire() {
            return wire;
        }

        /** Whether the node may report ready in this state. */
        public boolean ready() {
            return ready;
        }
    }

    /**
     * What the readiness check reports.
     *
     * @param state     where the warm-up is
     * @param streams   streams the warm-up completed so far
     * @param failures  requests of the warm-up that failed
     * @param elapsedMs ms since it started (to its end once ended), or 0 before
     * @param detail    how the port was learned, or the first failure; may be null
     */
    public record Status(State state, long streams, long failures, long elapsedMs, String detail) {
    }

    @Inject
    SluiceConfig config;
    @Inject
    Providers providers;
    @Inject
    ManagedExecutors executors;
    @Inject
    Event<WarmupEnded> warmupEnded;
    @Resource
    ManagedThreadFactory threads;
    @Resource(lookup = Database.JNDI_NAME)
    DataSource dataSource;

    private final AtomicReference<State> state = new AtomicReference<>(State.WAITING);
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile byte[] token;
    private volatile long startedNanos;
    private volatile long endedNanos;
    private volatile String detail;
    private volatile WarmupTraffic traffic;
    private volatile WarmupUpstream upstream;
    private volatile Future<?> bound;
    /** When the traffic ended and when the last streams had ended (ms since the start), for the log. */
    private volatile long trafficMs;
    private volatile long drainedMs;
    /** The counts of an ended warm-up, kept once its clients are dropped. */
    private volatile Status ended;

    @PostConstruct
    void init() {
        if (!config.warmup()) {
            state.set(State.OFF);
            return;
        }
        bound = executors.timers().schedule(this::skipIfWaiting, config.warmupSeconds(), TimeUnit.SECONDS);
    }

    /**
     * The application was deployed at {@code contextPath}: starts at once when the container publishes its
     * plain-HTTP port (loopback address).
     */
    public void deployed(String contextPath) {
        if (state.get() == State.WAITING) {
            ContainerPorts.plainHttp().ifPresent(port -> start(InetAddress.getLoopbackAddress().getHostAddress(), port,
                    contextPath, "the container's HTTP listener"));
        }
    }

    /** Whether the warm-up waits for a request to learn its port (a volatile read: called for every request). */
    public boolean waiting() {
        return state.get() == State.WAITING;
    }

    /**
     * A request reached the application: a plain-HTTP one tells the warm-up where to connect (the address and port
     * that accepted it), and starts it. Others are ignored.
     *
     * @param secure      whether it came over TLS
     * @param scheme      its scheme
     * @param localAddr   the address that accepted it (an IP literal)
     * @param localPort   the port that accepted it
     * @param contextPath the application's context path ({@code ""} at the root)
     */
    public void requestSeen(boolean secure, String scheme, String localAddr, int localPort, String contextPath) {
        if (state.get() != State.WAITING || secure || !"http".equalsIgnoreCase(scheme) || localPort <= 0) {
            return;
        }
        start(localAddr, localPort, contextPath, "the first request");
    }

    private void start(String host, int port, String contextPath, String how) {
        if (!state.compareAndSet(State.WAITING, State.RUNNING)) {
            return;
        }
        Future<?> b = bound;
        if (b != null) {
            b.cancel(false);
        }
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret).getBytes(StandardCharsets.US_ASCII);
        startedNanos = System.nanoTime();
        URI base;
        try {
            base = new URI("http", null, host, port, contextPath + "/", null, null); // brackets an IPv6 literal
        } catch (java.net.URISyntaxException e) {
            state.set(State.FAILED);
            detail = "no URI for " + host + ":" + port + contextPath + ": " + e.getMessage();
            LOG.warning(() -> "warm-up not started: " + detail);
            return;
        }
        detail = "port " + port + " from " + how;
        LOG.info(() -> "warming up through " + base + " (port from " + how + "): " + config.warmupStreams()
                + " streams at most, at most " + config.warmupSeconds() + " s; /health/ready is DOWN meanwhile");
        executors.work().execute(() -> run(base));
    }

    private void run(URI base) {
        try {
            upstream = WarmupUpstream.start(threads);
            String model = providers.beginWarmup(upstream.baseUri().toString());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .executor(executors.work()).connectTimeout(Duration.ofSeconds(5)).build();
            boolean v1 = config.apiKeys().isEmpty() && config.apiKeysFile().isEmpty();
            WarmupTraffic t = new WarmupTraffic(http, base, new String(token, StandardCharsets.US_ASCII), model, v1,
                    config.warmupStreams());
            traffic = t;
            executors.timers().schedule(this::timeUp, config.warmupSeconds(), TimeUnit.SECONDS);
            t.awaitApplication(Duration.ofSeconds(config.warmupSeconds()), executors.timers())
                    .thenCompose(ready -> t.run(LANES))
                    .thenCompose(ran -> {
                        trafficMs = elapsedMs();
                        return t.drain(DRAIN, executors.timers());
                    })
                    .thenCompose(drained -> {
                        drainedMs = elapsedMs();
                        return jitSettled();
                    })
                    .whenComplete((settled, error) -> finish(error));
        } catch (Exception e) {
            finish(e);
        }
    }

    /**
     * Completes once the JIT compilers have little left to do: under 100 ms of compilation in each of two 250 ms
     * windows in a row (the sum over compiler threads, {@link CompilationMXBean}), or at the bound. The last streams
     * of the warm-up leave hundreds of methods queued for C2; a node that reported ready before they are compiled
     * would compile them while it serves.
     */
    private CompletableFuture<Void> jitSettled() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            done.complete(null);
            return done;
        }
        checkJit(jit, jit.getTotalCompilationTime(), 0, done);
        return done;
    }

    private void checkJit(CompilationMXBean jit, long before, int calm, CompletableFuture<Void> done) {
        executors.timers().schedule(() -> {
            long now = jit.getTotalCompilationTime();
            int quiet = now - before < 100 ? calm + 1 : 0;
            if (quiet >= 2 || state.get() != State.RUNNING) {
                done.complete(null);
            } else {
                checkJit(jit, now, quiet, done);
            }
        }, 250, TimeUnit.MILLISECONDS);
    }

    /** The bound: the node is ready now; the warm-up's lanes end after their current request, then it cleans up. */
    private void timeUp() {
        if (state.get() != State.RUNNING) {
            return;
        }
        WarmupTraffic t = traffic;
        if (t != null) {
            t.stop();
        }
        warmupEnded.fire(new WarmupEnded(true)); // the metrics count from now
        endedNanos = System.nanoTime();
        if (state.compareAndSet(State.RUNNING, State.TIMED_OUT)) {
            LOG.warning(() -> "the warm-up did not end within " + config.warmupSeconds() + " s (SLUICE_WARMUP_SECONDS)"
                    + " after " + (t == null ? 0 : t.streams()) + " streams: the node reports ready now");
        }
    }

    private void skipIfWaiting() {
        if (state.compareAndSet(State.WAITING, State.SKIPPED)) {
            detail = "no plain-HTTP port was learned within " + config.warmupSeconds() + " s of deployment";
            LOG.warning(() -> "warm-up skipped: " + detail);
        }
    }

    /** Cleans up (on the database pool: it writes), then reports ready, unless the bound already did. */
    private void finish(Throwable error) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        executors.database().execute(() -> {
            WarmupTraffic t = traffic;
            List<String> owners = t == null ? List.of() : t.owners();
            try (Connection c = dataSource.getConnection()) {
                int[] deleted = WarmupRecords.delete(c, owners, Instant.now().minus(STALE));
                LOG.fine(() -> "warm-up rows deleted: " + deleted[0] + " streams, " + deleted[1] + " conversations, "
                        + deleted[2] + " agent runs");
            } catch (Exception e) {
                LOG.log(Level.WARNING, "the warm-up's rows could not be deleted (owners " + owners + "); they belong"
                        + " to no user and are deleted by the next warm-up after an hour", e);
            }
            providers.endWarmup();
            WarmupUpstream u = upstream;
            if (u != null) {
                u.close();
            }
            token = null;
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (state.get() == State.RUNNING) {
                warmupEnded.fire(new WarmupEnded(false)); // the metrics count from now
                endedNanos = System.nanoTime();
            }
            if (cause == null && t != null && t.failures() > t.streams()) {
                cause = new IllegalStateException("most of its requests failed (" + t.failures() + " failed, "
                        + t.streams() + " streams made); the first: " + t.firstFailure());
            }
            if (cause != null) {
                detail = cause.toString();
                if (state.compareAndSet(State.RUNNING, State.FAILED)) {
                    LOG.log(Level.WARNING, "the warm-up failed; the node reports ready without it", cause);
                }
            } else if (state.compareAndSet(State.RUNNING, State.DONE)) {
                LOG.info(() -> "warmed up in " + elapsedMs() + " ms (traffic " + trafficMs + " ms, its last streams ended"
                        + " at " + drainedMs + " ms, then the JIT compilers' backlog): " + (t == null ? 0 : t.streams())
                        + " streams, "
                        + (t == null ? 0 : t.failures()) + " failed requests" + (t == null || t.firstFailure() == null
                        ? "" : " (first: " + t.firstFailure() + ")") + "; /health/ready is UP");
            }
            keepCountsAndDrop();
        });
    }

    /** Keeps the ended warm-up's counts and lets its HTTP client and upstream go (their threads end with them). */
    private void keepCountsAndDrop() {
        if (ended == null) {
            ended = status();
        }
        traffic = null;
        upstream = null;
    }

    private long elapsedMs() {
        long start = startedNanos;
        if (start == 0) {
            return 0;
        }
        long end = endedNanos;
        return TimeUnit.NANOSECONDS.toMillis((end != 0 ? end : System.nanoTime()) - start);
    }

    /** What {@code /health/ready}'s {@code warmup} check reports. */
    public Status status() {
        Status end = ended;
        if (end != null) {
            return new Status(state.get(), end.streams(), end.failures(), end.elapsedMs(), detail);
        }
        WarmupTraffic t = traffic;
        String d = detail;
        if (t != null && t.firstFailure() != null && state.get() != State.FAILED) {
            d = d + "; first failed request: " + t.firstFailure();
        }
        return new Status(state.get(), t == null ? 0 : t.streams(), t == null ? 0 : t.failures(), elapsedMs(), d);
    }

    /**
     * Whether a request is the warm-up's own: its {@link #HEADER} value is the running warm-up's token (compared in
     * constant time) and it comes from an address of this machine. Never true when no warm-up runs.
     *
     * @param header     the request's {@link #HEADER}, or {@code null}
     * @param remoteAddr the peer's address, an IP literal
     */
    @Override
    public boolean admits(String header, String remoteAddr) {
        byte[] expected = token;
        if (header == null || expected == null
                || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.US_ASCII))) {
            return false;
        }
        return local(remoteAddr);
    }

    /** Whether {@code address} (an IP literal) is a loopback address or one of this machine's interfaces. */
    static boolean local(String address) {
        if (address == null || !(address.contains(":") || address.matches("\\d{1,3}(\\.\\d{1,3}){3}"))) {
            return false; // not an IP literal: a name is never looked up
        }
        try {
            InetAddress a = InetAddress.getByName(address);
            return a.isLoopbackAddress() || NetworkInterface.getByInetAddress(a) != null;
        } catch (UnknownHostException | SocketException e) {
            return false;
        }
    }

    @PreDestroy
    void stop() {
        WarmupTraffic t = traffic;
        if (t != null) {
            t.stop();
        }
        WarmupUpstream u = upstream;
        if (u != null) {
            u.close();
        }
        token = null;
    }
}
