package io.sluice.platform.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.Config;

/**
 * Every run-time setting of Sluice, read through MicroProfile Config, so each key can be given as an
 * environment variable ({@code SLUICE_UPSTREAM_URL}) or a property ({@code sluice.upstream.url}); API.md
 * section 1 lists the public ones, the README all of them. One WAR serves every environment: nothing here
 * is fixed at build time.
 *
 * <p>A value that cannot be converted (say {@code SLUICE_HEARTBEAT_SECONDS=soon}) or is out of range fails
 * with an {@link IllegalArgumentException} naming the key, the first time it is read. Numeric settings are read
 * once per deployment and then kept.
 */
@ApplicationScoped
public class SluiceConfig {

    @Inject
    Config config;

    private final ConcurrentHashMap<String, Integer> positives = new ConcurrentHashMap<>();

    /** Base URL of the OpenAI-compatible API without trailing slash, or empty for the simulated model. */
    public Optional<String> upstreamUrl() {
        return config.getOptionalValue("sluice.upstream.url", String.class)
                .map(String::strip).filter(s -> !s.isEmpty())
                .map(s -> s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    }

    /** The bearer token sent upstream, or empty. */
    public Optional<String> upstreamApiKey() {
        return config.getOptionalValue("sluice.upstream.api.key", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
    }

    /** The model name sent upstream when a request names none, or empty (the provider chooses). */
    public Optional<String> upstreamModel() {
        return config.getOptionalValue("sluice.upstream.model", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
    }

    /**
     * The model routes as a JSON array ({@code SLUICE_MODELS}, API.md section 10), or empty when unset or blank
     * (then {@code SLUICE_UPSTREAM_*} is the one route).
     */
    public Optional<String> models() {
        return text("sluice.models");
    }

    /** A path to a file holding the model routes' JSON array ({@code SLUICE_MODELS_FILE}), or empty. */
    public Optional<String> modelsFile() {
        return text("sluice.models.file");
    }

    /**
     * Bearer keys of {@code /v1} clients mapped to users ({@code SLUICE_API_KEYS}, API.md section 8): comma-separated
     * {@code user:key} pairs, or empty.
     */
    public Optional<String> apiKeys() {
        return text("sluice.api.keys");
    }

    /**
     * A path to a file of {@code user sha256-hex-of-key} lines ({@code SLUICE_API_KEYS_FILE}): keys stored as
     * hashes only; or empty.
     */
    public Optional<String> apiKeysFile() {
        return text("sluice.api.keys.file");
    }

    private Optional<String> text(String key) {
        return config.getOptionalValue(key, String.class).map(String::strip).filter(s -> !s.isEmpty());
    }

    /** Connect timeout, and the longest silence (no byte) tolerated from the upstream; default 60 s. */
    public Duration upstreamTimeout() {
        return Duration.ofSeconds(positive("sluice.upstream.timeout.seconds", 60));
    }

    /** Interval of {@code ping} events on SSE connections; default 15 s. */
    public Duration heartbeat() {
        return Duration.ofSeconds(positive("sluice.heartbeat.seconds", 15));
    }

    /**
     * The liveness signal: while a stream is generating, a connection silent this long gets a {@code ping}
     * ({@code SLUICE_LIVENESS_MS}, issue 20), in ms; default 1000, 0 turns it off.
     *
     * @throws IllegalArgumentException when the value is negative
     */
    public int livenessMillis() {
        int ms = config.getOptionalValue("sluice.liveness.ms", Integer.class).orElse(1000);
        if (ms < 0) {
            throw new IllegalArgumentException("sluice.liveness.ms must be 0 (off) or a number of ms, was " + ms);
        }
        return ms;
    }

    /** Largest accepted JSON request body in bytes; larger bodies get 413; default 64 KiB. */
    public int maxRequestBytes() {
        return positive("sluice.request.max.bytes", 64 * 1024);
    }

    /** Pace of the simulated model in tokens per second; default 30. */
    public int simulatedTokensPerSecond() {
        return positive("sluice.simulated.tokens.per.second", 30);
    }

    /** Longest time a coalesced delta waits before it is sent, in ms; default 50. */
    public int flushMillis() {
        return positive("sluice.stream.flush.ms", 50);
    }

    /** Size in UTF-16 code units at which a coalesced delta is sent at once; default 512. */
    public int flushChars() {
        return positive("sluice.stream.flush.chars", 512);
    }

    /** How many earlier messages of a conversation are sent upstream as history; default 50. */
    public int historyMessages() {
        return positive("sluice.history.max.messages", 50);
    }

    /**
     * Largest answer or reasoning kept per stream, in UTF-16 code units; past it the stream ends; default 16 Mi, so that
     * a 10 MB answer (seed 001) completes.
     */
    public int maxGenerationChars() {
        return positive("sluice.stream.max.chars", 16 * 1024 * 1024);
    }

    /**
     * The bound of an answer's raw record of the upstream response ({@code SLUICE_RAW_MAX_BYTES}, API.md section 13), in
     * bytes: each data line kept counts its UTF-8 bytes plus 5 (see {@code RawCapture}); 0 keeps none; default 1 MiB.
     *
     * @throws IllegalArgumentException when the value is negative or not an integer
     */
    public int rawMaxBytes() {
        String key = "sluice.raw.max.bytes";
        Integer known = positives.get(key);
        if (known != null) {
            return known;
        }
        int value = config.getOptionalValue(key, Integer.class).orElse(1024 * 1024);
        if (value < 0) {
            throw new IllegalArgumentException(key + " must be 0 or a positive integer, was " + value);
        }
        positives.put(key, value);
        return value;
    }

    /**
     * The longest a generation may run ({@code SLUICE_STREAM_MAX_SECONDS}), in ms; past it the stream ends with
     * {@code STREAM_TIMEOUT}; default 600 s.
     */
    public long streamMaxMillis() {
        return 1000L * positive("sluice.stream.max.seconds", 600);
    }

    /**
     * How long a failed save at stream end is tried again ({@code SLUICE_SAVE_RETRY_SECONDS}), in ms, before the
     * stream ends with {@code PERSISTENCE_FAILED}; default 30 s (issue 11, rule 1).
     */
    public long saveRetryMillis() {
        return 1000L * positive("sluice.save.retry.seconds", 30);
    }

    /** How long a running stream with no follower is kept before it is cancelled; default 60 s. */
    public long resumeGraceMillis() {
        return 1000L * positive("sluice.resume.grace.seconds", 60);
    }

    /** How long a beacon abort on page unload waits for a reload to re-attach; default 5 s. */
    public long unloadGraceMillis() {
        return 1000L * positive("sluice.unload.grace.seconds", 5);
    }

    /** How long an ended stream stays replayable in memory; default 10 minutes. */
    public long retentionMillis() {
        return 1000L * positive("sluice.stream.retention.seconds", 600);
    }

    /** Live SSE connections allowed per owner on one node; default 8. */
    public int maxConnectionsPerOwner() {
        return positive("sluice.max.connections.per.owner", 8);
    }

    /** Streams kept in memory on one node, running and retained; default 20000. */
    public int maxStreams() {
        return positive("sluice.max.streams", 20_000);
    }

    /**
     * Streams running at once on one node (admission: one more is refused at once with 503 and {@code Retry-After});
     * default 10,000, or fewer where the process's open-files limit could not hold them: each running stream holds
     * up to two sockets (its client's and its upstream's), so the default is at most (limit - 1,024) / 2.
     */
    public int maxRunningStreams() {
        return positive("sluice.max.running.streams", defaultRunningStreams());
    }

    private static int defaultRunningStreams() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            long limit = unix.getMaxFileDescriptorCount();
            return (int) Math.max(100, Math.min(10_000, (limit - 1024) / 2));
        }
        return 10_000;
    }

    /** Running streams allowed per owner; default 16. */
    public int maxStreamsPerOwner() {
        return positive("sluice.max.streams.per.owner", 16);
    }

    /** Threads of the stream work pool (CPU work that never blocks); default twice the cores, at least 4. */
    public int streamThreads() {
        return positive("sluice.stream.threads", Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
    }

    /** Threads that write to clients (SSE events, poll answers), which may block on a slow client; default 32. */
    public int writerThreads() {
        return positive("sluice.writer.threads", 32);
    }

    /** Default of {@link #queueMax()}. */
    public static final int DEFAULT_QUEUE_MAX = 1_000_000;
    /** Default of {@link #saveQueueMax()}. */
    public static final int DEFAULT_SAVE_QUEUE_MAX = 100_000;

    /**
     * Tasks each of the work, writers and database pools may queue ({@code SLUICE_QUEUE_MAX}); new streams and
     * connections get 503 once the work or writers queue is three quarters full; default
     * {@value #DEFAULT_QUEUE_MAX}.
     */
    public int queueMax() {
        return positive("sluice.queue.max", DEFAULT_QUEUE_MAX);
    }

    /**
     * Results waiting for the database ({@code SLUICE_SAVE_QUEUE_MAX}): the writes queued for the group commit and
     * the results of ended streams that wait to be saved again; at this many new streams get 503; default
     * {@value #DEFAULT_SAVE_QUEUE_MAX}.
     */
    public int saveQueueMax() {
        return positive("sluice.save.queue.max", DEFAULT_SAVE_QUEUE_MAX);
    }

    /** Agents of one multi-agent run generating at once; the others wait for a slot; default 3. */
    public int agentsMaxParallel() {
        return positive("sluice.agents.max.parallel", 3);
    }

    /** Agents of one owner generating at once, across all their runs; default 6. */
    public int agentsMaxPerOwner() {
        return positive("sluice.agents.max.per.owner", 6);
    }

    /** Running multi-agent runs per owner; one more is refused with {@code TOO_MANY_RUNS}; default 4. */
    public int agentRunsPerOwner() {
        return positive("sluice.agents.max.runs.per.owner", 4);
    }

    /** Most agents in one run; default 8. */
    public int agentsMaxPerRun() {
        return positive("sluice.agents.max.per.run", 8);
    }

    /**
     * The roster of named agents as a JSON array of {@code {"name","description","systemPrompt","dependsOn"}}
     * ({@code SLUICE_AGENTS_ROSTER}), or empty for the built-in planner, researcher, critic and writer.
     */
    public Optional<String> agentsRoster() {
        return config.getOptionalValue("sluice.agents.roster", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
    }

    /** {@code SLUICE_CORS_ORIGINS}: comma-separated origins allowed to call the API from a browser (API.md section 12). */
    public String corsOrigins() {
        return config.getOptionalValue("sluice.cors.origins", String.class).orElse("");
    }

    /**
     * {@code SLUICE_RETENTION_DAYS}: conversations untouched for this many days are deleted with their messages,
     * stream records and agent runs, by the daily retention job (API.md section 13; seed 001: clean up data older than
     * 30 days); default 30, {@code 0} keeps everything forever.
     *
     * @throws IllegalArgumentException when the value is negative
     */
    public int retentionDays() {
        int days = config.getOptionalValue("sluice.retention.days", Integer.class).orElse(30);
        if (days < 0) {
            throw new IllegalArgumentException("sluice.retention.days must be 0 (keep forever) or a number of days, was "
                    + days);
        }
        return days;
    }

    /** {@code SLUICE_ALLOWED_HOSTS}: comma-separated names a request's {@code Host} may carry; empty allows any. */
    public String allowedHosts() {
        return config.getOptionalValue("sluice.allowed.hosts", String.class).orElse("");
    }

    /**
     * {@code SLUICE_NEW_IDENTITIES_PER_MINUTE}: anonymous identities (cookies) one client address may be given per
     * minute, also its burst; default 60 (issue 11, rule 10). The address is the peer's, or behind a trusted proxy
     * its {@code X-Forwarded-For}.
     */
    public int newIdentitiesPerMinute() {
        return positive("sluice.new.identities.per.minute", 60);
    }

    /**
     * {@code SLUICE_STREAMS_PER_MINUTE}: streams one client address may create per minute (chat turns, typed streams,
     * generations, {@code /v1} completions), also its burst; default 1,200 (issue 11, rule 10).
     */
    public int streamsPerMinute() {
        return positive("sluice.streams.per.minute", 1200);
    }

    /**
     * {@code SLUICE_TRUSTED_PROXIES}: comma-separated addresses or CIDR blocks whose {@code X-Forwarded-Proto} and
     * {@code X-Forwarded-Host} are believed; default this machine ({@code 127.0.0.0/8,::1/128}).
     */
    public String trustedProxies() {
        return config.getOptionalValue("sluice.trusted.proxies", String.class).orElse("");
    }

    /**
     * {@code SLUICE_OIDC_ISSUER}: the OpenID Connect issuer URL (API.md section 12), or empty when login is off.
     * Login is on only when the issuer and {@code SLUICE_OIDC_CLIENT_ID} are both set.
     */
    public Optional<String> oidcIssuer() {
        return config.getOptionalValue("sluice.oidc.issuer", String.class).map(String::strip).filter(s -> !s.isEmpty());
    }

    /** {@code SLUICE_OIDC_CLIENT_ID}, or empty. */
    public Optional<String> oidcClientId() {
        return config.getOptionalValue("sluice.oidc.client.id", String.class).map(String::strip)
                .filter(s -> !s.isEmpty());
    }

    /**
     * {@code SLUICE_TOPIC_TITLES}: whether a conversation's generated title starts its {@code topic_title} stream, whose
     * result is saved as the conversation's topic (seed 003's chain, API.md section 13); default {@code true}. MicroProfile
     * Config's boolean: {@code true}, {@code 1}, {@code yes}, {@code y} or {@code on} (any case) are true, any other
     * value false.
     */
    public boolean topicTitles() {
        return config.getOptionalValue("sluice.topic.titles", Boolean.class).orElse(true);
    }

    /** Whether users log in with OpenID Connect ({@code SLUICE_OIDC_ISSUER} and {@code SLUICE_OIDC_CLIENT_ID} set). */
    public boolean oidcEnabled() {
        return oidcIssuer().isPresent() && oidcClientId().isPresent();
    }

    /**
     * {@code SLUICE_WARMUP}: whether the node warms itself up before {@code /health/ready} says UP (issue 22,
     * {@code io.sluice.warmup}); default true.
     */
    public boolean warmup() {
        return config.getOptionalValue("sluice.warmup", Boolean.class).orElse(true);
    }

    /** {@code SLUICE_WARMUP_SECONDS}: the longest the warm-up may keep the node not ready, in s; default 30. */
    public int warmupSeconds() {
        return positive("sluice.warmup.seconds", 30);
    }

    /** {@code SLUICE_WARMUP_STREAMS}: streams the warm-up makes; default 1,000. */
    public int warmupStreams() {
        return positive("sluice.warmup.streams", 1000);
    }

    /**
     * A positive integer setting, read once: the numeric settings are read on every stream's path, and a read through
     * the server's config resolves expressions and converts each time. A value that fails is not kept, so it fails
     * again at the next read.
     */
    private int positive(String key, int fallback) {
        Integer known = positives.get(key);
        if (known != null) {
            return known;
        }
        int value = config.getOptionalValue(key, Integer.class).orElse(fallback);
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be a positive integer, was " + value);
        }
        positives.put(key, value);
        return value;
    }
}
