package io.sluice.operations.control;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamObserver;
import io.sluice.streams.control.StreamStatus;
import io.sluice.streams.control.StreamType;
import io.sluice.warmup.control.WarmupEnded;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.json.JsonObject;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.SseEventSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every metric of Sluice, recorded through one object (API.md section 11), in Micrometer's Prometheus registry, which
 * writes the exposition format ({@link #scrape()}). The streaming code reports through {@link StreamObserver}, the
 * interface {@code streams} defines and this bean implements, one call at each point where something happens; the
 * warm-up's end arrives as a {@link WarmupEnded} event. Nothing else in the code knows a metric name.
 *
 * <p>Names as Prometheus sees them (times in seconds):
 * <ul>
 *   <li>{@code sluice_streams_active}, {@code sluice_connections_active}, {@code sluice_agent_runs_active}
 *       (gauges, read from their owners at scrape time);</li>
 *   <li>{@code sluice_streams_started_total{type,route}};</li>
 *   <li>{@code sluice_streams_total{type,status,code,route}}: ended streams; {@code status} is {@code completed},
 *       {@code error} or {@code stopped}; {@code code} the error code of an error, the reason of a stop
 *       ({@code user}, {@code unload}, {@code client_disconnected}, {@code server_shutdown}, else {@code other}),
 *       {@code none} for a completion;</li>
 *   <li>{@code sluice_stream_first_token_seconds{type,route}} (histogram): stream start to its first delta;</li>
 *   <li>{@code sluice_stream_event_interval_seconds{type,route}} (histogram): the gap between consecutive deltas of a
 *       stream as they arrive from the upstream (the seeds' "chunk interval"), before coalescing;</li>
 *   <li>{@code sluice_stream_duration_seconds{type,status}} (histogram);</li>
 *   <li>{@code sluice_stream_resume_latency_seconds{transport}} (histogram): a reconnect (SSE with
 *       {@code Last-Event-ID} or an offset) to its first replayed event written;</li>
 *   <li>{@code sluice_stream_resumes_total{transport}}, {@code sluice_stream_stops_total{reason}},
 *       {@code sluice_stream_unload_aborts_total}, {@code sluice_connections_reaped_total} (zombies: stalled
 *       writers and unanswered pings), {@code sluice_connections_replaced_total} (a second connection of the same
 *       tab), {@code sluice_upstream_errors_total{code}}.</li>
 * </ul>
 * Histogram buckets include each alarm threshold of the seeds (first token 0.5 s and 1 s, chunk interval 0.2 s,
 * recovery 3 s), so {@code server-config/prometheus/sluice-alerts.yml} compares exact bucket counts.
 *
 * <p>Known label values are exported at zero from the start (Prometheus' guidance: a series that appears with its
 * first count hides that count from {@code rate()} and the alert rules). The constructor registers every closed
 * set that needs nothing else: {@code sluice_stream_resumes_total} by transport ({@code sse}, {@code websocket}),
 * {@code sluice_stream_stops_total} by reason (the four known ones and {@code other}),
 * {@code sluice_upstream_errors_total} by every {@link FailureCode}, and the unlabelled counters;
 * {@link #routesKnown} adds, for every stream type and model route, {@code sluice_streams_started_total} and the
 * {@code completed} series of {@code sluice_streams_total}, the two sides of the success rate. Error and stop series
 * of {@code sluice_streams_total} are made at their first count: their codes times types times routes would
 * multiply that metric's series seventeen-fold. Histograms are made by a stream's first delta (each is about 17
 * series per type and route).
 *
 * <p>The JVM's figures ({@link #bindJvm}) come from Micrometer's JVM binders under Prometheus' usual names:
 * {@code jvm_memory_used_bytes}, {@code jvm_memory_committed_bytes}, {@code jvm_memory_max_bytes} (by {@code area}
 * and pool {@code id}; {@code -1} for a pool without a maximum), {@code jvm_buffer_*}, {@code jvm_gc_pause_seconds},
 * {@code jvm_gc_memory_allocated_bytes_total}, {@code jvm_gc_live_data_size_bytes}, {@code jvm_threads_live_threads},
 * {@code jvm_threads_states_threads}, {@code jvm_classes_loaded_classes}, {@code jvm_info}, {@code process_cpu_usage},
 * {@code system_cpu_usage}, {@code system_load_average_1m}, {@code process_uptime_seconds},
 * {@code process_start_time_seconds}, {@code process_files_open_files} and {@code process_files_max_files}. Two names
 * of Micrometer's that {@code promtool check metrics} refuses are left out ({@link #LEFT_OUT}).
 *
 * <p>Cost: a histogram record is a few hundred nanoseconds (the README's "Operations" section has the measurement);
 * per delta the hot path records one interval. Label values come from closed sets (types, codes, routes, the
 * known stop reasons), so the number of series is bounded. Thread-safe.
 */
@ApplicationScoped
public class StreamMetrics implements StreamObserver {

    /** The seeds' alarm on time to first token, in seconds (interface spec). */
    public static final double ALARM_FIRST_TOKEN_SECONDS = 1.0;
    /** The seeds' alarm on the chunk interval, in seconds. */
    public static final double ALARM_EVENT_INTERVAL_SECONDS = 0.2;
    /** The seeds' alarm on the success rate (streams that did not end in error), as a fraction. */
    public static final double ALARM_SUCCESS_RATE = 0.95;
    /** The seeds' alarm on live connections. */
    public static final int ALARM_CONNECTIONS = 1500;

    /** Stop reasons that get their own label value; any other reason a client sends counts as {@code other}. */
    static final Set<String> STOP_REASONS = Set.of(Reason.USER.wire(), Reason.UNLOAD.wire(),
            Reason.CLIENT_DISCONNECTED.wire(), Reason.SERVER_SHUTDOWN.wire());
    /** The label value of every other stop reason. */
    static final String OTHER_STOP_REASON = "other";
    /** The transports a client resumes over: SSE ({@code Last-Event-ID} or offset) and the WebSocket resume frame. */
    static final List<String> TRANSPORTS = List.of("sse", "websocket");

    /** Meters of the JVM binders left out: {@code system_cpu_count} and {@code process_cpu_time_ns_total}. */
    static final Set<String> LEFT_OUT = Set.of("system.cpu.count", "process.cpu.time");

    private static final Logger LOG = Logger.getLogger(StreamMetrics.class.getName());

    private static final Duration[] FIRST_TOKEN_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30);
    private static final Duration[] INTERVAL_BUCKETS = seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5);
    private static final Duration[] DURATION_BUCKETS = seconds(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800);
    private static final Duration[] RESUME_BUCKETS = seconds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10);

    private final PrometheusMeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    /** The route labels given to {@link #routesKnown}, registered again at zero after {@link #reset}. */
    private final Set<String> knownRoutes = ConcurrentHashMap.newKeySet();

    /** The JVM binders bound by {@link #bindJvm}; closed by {@link #close}. */
    private final List<MeterBinder> jvm = new ArrayList<>();

    public StreamMetrics() {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /** For tests: records into {@code registry}; the known label values are registered at zero. */
    public StreamMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        // ProcessorMetrics' two names that promtool's lint refuses ("_count" on a gauge, the abbreviated unit "ns");
        // process_cpu_usage and system_cpu_usage say the same, as fractions of the machine
        registry.config().meterFilter(MeterFilter.deny(id -> LEFT_OUT.contains(id.getName())));
        registerKnown();
    }

    /**
     * Registers, at zero, the series whose label values are a closed set known in advance (Prometheus' guidance on
     * known label values): resumes per transport, stops per reason, upstream errors per code, unload aborts, reaped
     * and replaced connections, and each stream type on each route given to {@link #routesKnown}. A series already
     * registered is left as it is.
     */
    private void registerKnown() {
        for (String transport : TRANSPORTS) {
            resumes(transport);
        }
        for (String reason : STOP_REASONS) {
            stops(reason);
        }
        stops(OTHER_STOP_REASON);
        for (FailureCode code : FailureCode.values()) {
            upstreamErrors(code.name());
        }
        unloadAborts();
        reaped();
        replaced();
        routesKnown(knownRoutes);
    }

    // --- the JVM

    /**
     * Binds Micrometer's JVM binders (memory, buffer pools, GC, threads, classes, JVM info, CPU, uptime, open files)
     * to this registry: their {@code jvm_*}, {@code process_*} and {@code system_*} series appear in {@link #scrape()}.
     * Called once when the bean is made; {@link #close} undoes it. They read the platform MXBeans of
     * {@code java.lang.management} (no MBean server, no JMX permission), and {@code com.sun.management} where the
     * server lets the application see it (WildFly does through the WAR's manifest, which asks for
     * {@code jdk.management}); a figure whose class is missing is left out, as Micrometer does, never an error.
     */
    @PostConstruct
    public synchronized void bindJvm() {
        if (!jvm.isEmpty()) {
            return;
        }
        jvm.addAll(List.of(new JvmMemoryMetrics(), new JvmGcMetrics(), new JvmThreadMetrics(),
                new ClassLoaderMetrics(), new JvmInfoMetrics(), new ProcessorMetrics(), new UptimeMetrics(),
                new FileDescriptorMetrics()));
        for (MeterBinder binder : jvm) {
            binder.bindTo(registry);
        }
    }

    /**
     * Closes the binders that hold resources ({@link JvmGcMetrics} listens to the garbage collectors' notifications:
     * left registered, it would keep the undeployed application's class loader), at undeploy.
     */
    @PreDestroy
    public synchronized void close() {
        for (MeterBinder binder : jvm) {
            if (binder instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    LOG.log(Level.WARNING, "closing " + binder.getClass().getSimpleName() + " failed", e);
                }
            }
        }
        jvm.clear();
    }

    /**
     * Registers, at zero, the series of every stream type on every model route (Prometheus' guidance on known label
     * values): {@code sluice_streams_started_total{type,route}} and
     * {@code sluice_streams_total{type,status="completed",code="none",route}}. Called at start-up with the route labels
     * ({@code Providers.routeLabels()}); a label already registered is left as it is.
     *
     * @param routes the closed set of route labels (API.md section 10: route names, or the one upstream's, and
     *               {@code simulated})
     */
    public void routesKnown(Collection<String> routes) {
        if (routes != knownRoutes) {
            knownRoutes.addAll(routes);
        }
        for (String route : routes) {
            for (StreamType type : StreamType.values()) {
                started(type.wire(), route);
                ended(type.wire(), StreamStatus.COMPLETED.wire(), "none", route);
            }
        }
    }

    // --- gauges

    /**
     * Publishes a value read at scrape time, such as the number of running streams.
     *
     * @param name one of {@code sluice.streams.active}, {@code sluice.connections.active},
     *             {@code sluice.agent.runs.active}
     */
    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    // --- hooks of the stream lifecycle

    /**
     * A stream was created (hook: {@code StreamHub.start}).
     *
     * @param route the model route that serves it ({@code simulated}, {@code upstream}, or a named route); the
     *              warm-up's ({@link Providers#WARMUP_LABEL}) gets a probe that records nothing
     * @return the stream's probe: wrap the stream's {@link GenerationListener} in it, and tell it the end
     */
    @Override
    public Probe streamStarted(StreamType type, String route) {
        String t = type.wire();
        if (Providers.WARMUP_LABEL.equals(route)) {
            return new Probe(t, route, null, null); // the node's own warm-up (issue 22) is not counted
        }
        started(t, route).increment();
        return new Probe(t, route,
                timer("sluice.stream.first.token", "Time from a stream's creation to its first delta", FIRST_TOKEN_BUCKETS,
                        true, "type", t, "route", route),
                timer("sluice.stream.event.interval", "Gap between consecutive deltas of a stream from the upstream",
                        INTERVAL_BUCKETS, true, "type", t, "route", route));
    }

    /**
     * Watches one stream: its first token and the gaps between its deltas, recorded as they arrive
     * ({@link #listening}), and its end ({@link #ended}). One per stream; provider calls for one generation never
     * overlap (GenerationListener's contract), so its state needs no lock.
     */
    public final class Probe implements StreamObserver.Watch {
        private final String type;
        private final String route;
        private final Timer firstToken;
        private final Timer interval;
        private final long startNanos = System.nanoTime();
        private long lastDeltaNanos;

        private Probe(String type, String route, Timer firstToken, Timer interval) {
            this.type = type;
            this.route = route;
            this.firstToken = firstToken;
            this.interval = interval;
        }

        /**
         * A listener that records the first token and each event interval, then passes every call to {@code target}
         * (hook: where the provider is given the stream as its listener).
         */
        @Override
        public GenerationListener listening(GenerationListener target) {
            return new GenerationListener() {
                @Override
                public void onDelta(String content, String reasoning) {
                    delta(System.nanoTime());
                    target.onDelta(content, reasoning);
                }

                @Override
                public void onComplete(String finishReason, JsonObject usage, String model) {
                    target.onComplete(finishReason, usage, model);
                }

                @Override
                public void onFailure(UpstreamException failure) {
                    target.onFailure(failure);
                }

                @Override
                public RawCapture rawCapture() {
                    return target.rawCapture();
                }
            };
        }

        /** A delta arrived at {@code now} ({@link System#nanoTime()}). */
        void delta(long now) {
            if (firstToken == null) {
                return;
            }
            long last = lastDeltaNanos;
            lastDeltaNanos = now;
            if (last == 0) {
                firstToken.record(now - startNanos, TimeUnit.NANOSECONDS);
            } else {
                interval.record(now - last, TimeUnit.NANOSECONDS);
            }
        }

        /**
         * The stream ended (hook: after its terminal event, {@code StreamHub.terminated}): counts it by type, status,
         * code and route, records its duration, and counts a stop by reason or an error by code.
         *
         * @param end how it ended ({@link Stream#end()}); {@code null} is ignored
         */
        @Override
        public void ended(Stream.End end, long durationMs) {
            if (end == null || firstToken == null) {
                return;
            }
            String status = end.status().wire();
            String code = switch (end.status()) {
                case ERROR -> end.reason() == null ? "INTERNAL_ERROR" : end.reason();
                case STOPPED -> stopReason(end.reason());
                default -> "none";
            };
            StreamMetrics.this.ended(type, status, code, route).increment();
            timer("sluice.stream.duration", "Duration of ended streams", DURATION_BUCKETS, false,
                    "type", type, "status", status).record(durationMs, TimeUnit.MILLISECONDS);
            if (end.status() == StreamStatus.STOPPED) {
                stops(code).increment();
            } else if (end.status() == StreamStatus.ERROR) {
                upstreamErrors(code).increment();
            }
        }
    }

    /**
     * A client reconnected to a running or retained stream (hook: the SSE resume endpoints, the WebSocket
     * {@code resume} frame).
     *
     * @param transport {@code sse} or {@code websocket}
     */
    @Override
    public void resumed(String transport) {
        resumes(transport).increment();
    }

    /**
     * An SSE reconnect (hook: the resume endpoints, {@code Last-Event-ID} or offset): counts the resume, and returns
     * {@code sink} watched so that the first event written to it records the resume latency. Every call passes
     * through unchanged.
     */
    @Override
    public SseEventSink resumedOver(SseEventSink sink) {
        resumed("sse");
        long arrived = System.nanoTime();
        AtomicBoolean first = new AtomicBoolean(true);
        return new SseEventSink() {
            @Override
            public boolean isClosed() {
                return sink.isClosed();
            }

            @Override
            public CompletionStage<?> send(OutboundSseEvent event) {
                CompletionStage<?> sent = sink.send(event);
                if (first.get() && event.getId() != null && first.compareAndSet(true, false)) {
                    sent.thenRun(() -> resumeLatency("sse", System.nanoTime() - arrived));
                }
                return sent;
            }

            @Override
            public void close() {
                sink.close();
            }
        };
    }

    /**
     * The first replayed event of a resumed connection was written, {@code nanos} after the reconnect arrived.
     *
     * @param transport {@code sse} or {@code websocket}
     */
    public void resumeLatency(String transport, long nanos) {
        timer("sluice.stream.resume.latency", "Reconnect to the first replayed event written", RESUME_BUCKETS, false,
                "transport", transport).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A beacon asked to abort a stream on page unload (hook: {@code POST /api/chat/abort} with reason unload). */
    @Override
    public void unloadAbortRequested() {
        unloadAborts().increment();
    }

    /** The connection guard forgot a connection that stopped reading or answering pings (a zombie). */
    @Override
    public void zombieReaped() {
        reaped().increment();
    }

    /** A second connection of the same tab to the same target replaced the first (no duplicate). */
    @Override
    public void duplicateReplaced() {
        replaced().increment();
    }

    /**
     * Forgets every count and histogram recorded so far; the gauges stay. The node's warm-up has it called when it
     * is done ({@link WarmupEnded}, issue 22), so that the metrics count from the moment the node became ready and
     * hold none of the warm-up's streams (whose slow first tokens would otherwise feed the alerts for minutes). Prometheus sees the counters
     * reset, as after a restart, and the known label values are registered again at zero. A stream running meanwhile
     * records the rest of its figures nowhere.
     */
    public void reset() {
        timers.forEach((key, timer) -> {
            timers.remove(key, timer);
            registry.remove(timer);
        });
        counters.forEach((key, counter) -> {
            counters.remove(key, counter);
            registry.remove(counter);
        });
        registerKnown();
    }

    /** The node's warm-up ended ({@link WarmupEnded}, fired synchronously by the warm-up): {@link #reset}. */
    void warmupEnded(@Observes WarmupEnded ended) {
        reset();
    }

    // --- reading

    /** The Prometheus text exposition (format 0.0.4) of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * What the dashboard shows (extension of {@code GET /api/metrics}): recent percentiles, over about the last
     * minute, and cumulative counts (statuses and codes that counted something; the series registered at zero are
     * left out).
     */
    public Summary summary() {
        Map<String, Double> endedByStatus = new TreeMap<>();
        Map<String, Double> errorsByCode = new TreeMap<>();
        for (Meter meter : registry.find("sluice.streams").meters()) {
            if (meter instanceof Counter c && c.count() > 0) {
                endedByStatus.merge(c.getId().getTag("status"), c.count(), Double::sum);
            }
        }
        for (Meter meter : registry.find("sluice.upstream.errors").meters()) {
            if (meter instanceof Counter c && c.count() > 0) { // the codes registered at zero are not news here
                errorsByCode.merge(c.getId().getTag("code"), c.count(), Double::sum);
            }
        }
        return new Summary(percentile("sluice.stream.first.token", 0.5), percentile("sluice.stream.first.token", 0.95),
                percentile("sluice.stream.event.interval", 0.95), endedByStatus, errorsByCode);
    }

    /**
     * Dashboard figures.
     *
     * @param firstTokenP50Seconds   median time to first token over about the last minute, {@code NaN} without data
     * @param firstTokenP95Seconds   its 95th percentile
     * @param eventIntervalP95Seconds 95th percentile of the gap between deltas
     * @param endedByStatus          ended streams since start, by status
     * @param errorsByCode           errors since start, by code
     */
    public record Summary(double firstTokenP50Seconds, double firstTokenP95Seconds, double eventIntervalP95Seconds,
                          Map<String, Double> endedByStatus, Map<String, Double> errorsByCode) {
    }

    /** The largest recent percentile across the series of one timer (all types and routes), or NaN. */
    private double percentile(String name, double p) {
        double worst = Double.NaN;
        for (Timer timer : registry.find(name).timers()) {
            HistogramSnapshot snapshot = timer.takeSnapshot();
            if (snapshot.count() == 0) {
                continue;
            }
            for (ValueAtPercentile v : snapshot.percentileValues()) {
                if (v.percentile() == p) {
                    double s = v.value(TimeUnit.SECONDS);
                    worst = Double.isNaN(worst) ? s : Math.max(worst, s);
                }
            }
        }
        return worst;
    }

    // --- meters, looked up once per label set

    private Counter started(String type, String route) {
        return counter("sluice.streams.started", "Streams created", "type", type, "route", route);
    }

    private Counter ended(String type, String status, String code, String route) {
        return counter("sluice.streams", "Streams ended, by type, status, error code or stop reason, and route",
                "type", type, "status", status, "code", code, "route", route);
    }

    private Counter stops(String reason) {
        return counter("sluice.stream.stops", "Streams stopped, by reason", "reason", reason);
    }

    private Counter upstreamErrors(String code) {
        return counter("sluice.upstream.errors", "Streams that ended in an error, by error code", "code", code);
    }

    private Counter resumes(String transport) {
        return counter("sluice.stream.resumes", "Reconnects to a stream (Last-Event-ID, offset or resume frame)",
                "transport", transport);
    }

    private Counter unloadAborts() {
        return counter("sluice.stream.unload.aborts",
                "Beacon aborts on page unload (a reload within the grace cancels them)");
    }

    private Counter reaped() {
        return counter("sluice.connections.reaped", "Connections reaped: stalled writes or unanswered pings");
    }

    private Counter replaced() {
        return counter("sluice.connections.replaced", "Connections replaced by a newer one of the same tab");
    }

    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(key(name, tags),
                k -> Counter.builder(name).description(description).tags(Tags.of(tags)).register(registry));
    }

    private Timer timer(String name, String description, Duration[] buckets, boolean percentiles, String... tags) {
        return timers.computeIfAbsent(key(name, tags), k -> {
            Timer.Builder b = Timer.builder(name).description(description).tags(Tags.of(tags))
                    .serviceLevelObjectives(buckets)
                    .distributionStatisticExpiry(Duration.ofMinutes(1)).distributionStatisticBufferLength(3);
            if (percentiles) {
                b.publishPercentiles(0.5, 0.95);
            }
            return b.register(registry);
        });
    }

    private static String key(String name, String... tags) {
        return name + '|' + String.join("|", tags);
    }

    static String stopReason(String reason) {
        return reason != null && STOP_REASONS.contains(reason) ? reason : OTHER_STOP_REASON;
    }

    private static Duration[] seconds(double... values) {
        Duration[] d = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
        }
        return d;
    }
}
