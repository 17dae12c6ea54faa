package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.CookieManager;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Database faults, shutdown and crash restart (issue 11, rules 1 to 5), black-box: the suite starts Payara Micro
 * itself, as a process, with the WAR and PostgreSQL reached through a {@link TcpProxy} that it makes refuse or
 * blackhole connections, then stops it with SIGTERM, and kills another with SIGKILL and starts a third on the same
 * database. It needs PostgreSQL ({@code SLUICE_DB_URL}, as {@code .ci/run} sets it) and is skipped without it.
 * Three server boots; the server's log is in {@code target/faults-it/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsIT {

    /** The suite's own fake upstream, next to the other suites' port. */
    private static final int UPSTREAM_PORT = Integer.getInteger("sluice.it.upstream.port", 18089) + 11;
    /** SLUICE_SAVE_RETRY_SECONDS of the servers started here. */
    private static final int SAVE_RETRY_SECONDS = 4;

    /** SLUICE_WARMUP_STREAMS of the servers started here: far more than SLUICE_STREAMS_PER_MINUTE lets one address make. */
    private static final int WARMUP_STREAMS = 200;

    /** SLUICE_NEW_IDENTITIES_PER_MINUTE and SLUICE_STREAMS_PER_MINUTE of the servers started here. */
    private static final int IDENTITIES_PER_MINUTE = 5;
    private static final int STREAMS_PER_MINUTE = 20;

    private static String dbUrl;
    private static TcpProxy proxy;
    private static FakeUpstream upstream;
    private static Server server;

    @BeforeAll
    static void start() throws Exception {
        dbUrl = System.getenv("SLUICE_DB_URL");
        Assumptions.assumeTrue(dbUrl != null && dbUrl.startsWith("jdbc:postgresql://"),
                "FaultsIT needs PostgreSQL (SLUICE_DB_URL=jdbc:postgresql://..., as .ci/run sets it): skipped");
        URI pg = URI.create(dbUrl.substring("jdbc:".length()));
        proxy = new TcpProxy(pg.getHost(), pg.getPort() > 0 ? pg.getPort() : 5432);
        upstream = new FakeUpstream(UPSTREAM_PORT);
        server = Server.start("faults-1", proxied(pg));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.kill();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** SLUICE_DB_URL with the proxy's port instead of the database's. */
    private static String proxied(URI pg) {
        String rest = dbUrl.substring(dbUrl.indexOf('/', "jdbc:postgresql://".length()));
        return "jdbc:postgresql://127.0.0.1:" + proxy.port() + rest;
    }

    // --- issue 22: ready means ready

    @Test
    @Order(-1)
    void readyIsDownWhileTheNodeWarmsUpThenUpAndTheWarmUpLeavesNothingBehind() throws Exception {
        List<Probe> probes = server.probes;
        int firstWarming = -1;
        for (int i = 0; i < probes.size(); i++) {
            if (probes.get(i).ready == 503 && probes.get(i).body.contains("\"name\":\"warmup\",\"status\":\"DOWN\"")) {
                firstWarming = i;
                break;
            }
        }
        assertTrue(firstWarming >= 0, "/health/ready answered 503 with the warmup check DOWN while warming: " + probes);
        for (Probe p : probes.subList(firstWarming, probes.size() - 1)) {
            assertEquals(503, p.ready, "DOWN until the warm-up is done: " + p);
            assertEquals(200, p.live, "liveness is unaffected while warming: " + p);
        }
        Probe up = probes.get(probes.size() - 1);
        assertEquals(200, up.ready, up.toString());
        JsonObject warmup = SseClient.json(up.body).getJsonArray("checks").stream().map(JsonObject.class::cast)
                .filter(c -> c.getString("name").equals("warmup")).findFirst().orElseThrow();
        assertEquals("UP", warmup.getString("status"), up.body);
        JsonObject data = warmup.getJsonObject("data");
        assertEquals("done", data.getString("state"), up.body);
        assertEquals("0", data.get("failures").toString().replace("\"", ""), up.body);
        long streams = Long.parseLong(data.get("streams").toString().replace("\"", ""));
        assertTrue(streams >= WARMUP_STREAMS, "every stream of the warm-up was made from 127.0.0.1, far past the"
                + " per-address limit of " + STREAMS_PER_MINUTE + " a minute: " + up.body);
        assertTrue(probes.get(firstWarming).body.contains("\"state\":\"running\""), probes.get(firstWarming).body);

        assertEquals("0", queryOne("SELECT COUNT(*) FROM streams WHERE owner LIKE ?", "warmup:%"),
                "the warm-up's stream records are deleted");
        assertEquals("0", queryOne("SELECT COUNT(*) FROM conversations WHERE owner LIKE ?", "warmup:%"),
                "and its conversations with their messages");
        User user = new User();
        assertEquals("[]", user.send("GET", "api/streams?status=active", null).body().strip());
        assertEquals("[]", user.send("GET", "api/conversations", null).body().strip());
        String metrics = user.send("GET", "metrics", null).body();
        // the known label values are there, at zero (Prometheus' guidance); none counts a warm-up stream
        assertFalse(metrics.contains("warm up") || java.util.regex.Pattern.compile(
                "(?m)^sluice_streams_(started_)?total\\{[^}]*\\} (?!0(\\.0)?$)").matcher(metrics).find(),
                "the metrics start at zero when the node is ready: the warm-up's streams are not counted\n" + metrics);
        assertTrue(java.util.regex.Pattern.compile("(?m)^sluice_stream_resumes_total\\{transport=\"websocket\"\\} 0(\\.0)?$")
                .matcher(metrics).find(), metrics);
    }

    // --- rule 10: per-client-address limits

    @Test
    @Order(0)
    void oneClientAddressGetsAFewNewIdentitiesAndStreamsPerMinuteAndAnotherIsNotSlowedDown() throws Exception {
        User crowd = new User();
        for (int i = 0; i < IDENTITIES_PER_MINUTE; i++) {
            HttpClient fresh = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
            HttpResponse<String> r = fresh.send(HttpRequest.newBuilder(server.uri("api/conversations"))
                    .header("X-Forwarded-For", crowd.address).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), "identity " + i + ": " + r.body());
        }
        HttpClient oneMore = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        HttpResponse<String> refused = oneMore.send(HttpRequest.newBuilder(server.uri("api/conversations"))
                .header("X-Forwarded-For", crowd.address).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent());
        assertEquals("urn:sluice:problem:rate-limited", SseClient.json(refused.body()).getString("type"));
        assertEquals(200, new User().send("GET", "api/conversations", null).statusCode(), "another address");

        User creator = new User();
        for (int i = 0; i < STREAMS_PER_MINUTE - 1; i++) {
            assertEquals(400, creator.send("POST", "api/streams", "{}").statusCode(), "attempt " + i);
        }
        HttpResponse<String> last = creator.send("POST", "api/streams", "{}");
        HttpResponse<String> over = creator.send("POST", "api/chat/stream", chat("over", "paced:3:10"));
        assertEquals(400, last.statusCode(), last.body());
        assertEquals(429, over.statusCode(), over.body());
        assertTrue(over.headers().firstValue("Retry-After").isPresent());
        assertEquals(200, creator.send("GET", "api/conversations", null).statusCode(), "reading is not limited");
    }

    // --- rule 5: a request while the database is down

    @Test
    @Order(1)
    void aRequestWhileTheDatabaseRefusesGets503WithRetryAfter() throws Exception {
        User user = new User();
        assertEquals(200, user.send("GET", "api/conversations", null).statusCode());
        proxy.mode(TcpProxy.Mode.REFUSE);
        try {
            assertUnavailable(user.send("GET", "api/conversations", null));
            assertUnavailable(user.send("POST", "api/chat/stream", chat("while down", "paced:3:10")));
            assertEquals(503, user.send("GET", "health/ready", null).statusCode(), "not ready without the database");
        } finally {
            proxy.mode(TcpProxy.Mode.PASS);
        }
        awaitReady(user);
        assertEquals(200, user.send("GET", "api/conversations", null).statusCode());
    }

    // --- rule 2: a database that stops answering (packets dropped)

    @Test
    @Order(2)
    void aBlackholedDatabaseFailsARequestInSecondsNotMinutes() throws Exception {
        User user = new User();
        assertEquals(200, user.send("GET", "api/conversations", null).statusCode());
        proxy.mode(TcpProxy.Mode.BLACKHOLE);
        long start = System.nanoTime();
        try {
            HttpResponse<String> r = user.send("GET", "api/conversations", null);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertUnavailable(r);
            // SLUICE_DB_TIMEOUT_SECONDS=2 for connect, login and reads; the pool waits at most 5 s
            assertTrue(ms < 20_000, "answered after " + ms + " ms");
        } finally {
            proxy.mode(TcpProxy.Mode.REFUSE); // drop the blackholed connections
            proxy.mode(TcpProxy.Mode.PASS);
        }
        awaitReady(user);
    }

    // --- rule 1: the save at stream end fails

    @Test
    @Order(3)
    void aSaveThatFailsWhileTheDatabaseIsBrieflyDownIsRetriedAndTheClientIsToldOnlyAfterIt() throws Exception {
        User user = new User();
        String marker = "retried " + UUID.randomUUID();
        JsonObject created = user.createChat(marker, "paced:20:50"); // ~1 s of output
        SseClient follower = user.follow(created.getString("streamId"));
        proxy.mode(TcpProxy.Mode.REFUSE); // down at the stream's end
        Thread.sleep(2500);
        assertFalse(follower.ended().isDone(), "no terminal event while the answer is not saved");
        proxy.mode(TcpProxy.Mode.PASS); // back before SLUICE_SAVE_RETRY_SECONDS ran out
        List<SseClient.Event> events = follower.untilTerminal(30);
        SseClient.Event done = SseClient.last(events);
        assertEquals("done", done.name(), done.toString());
        JsonObject data = done.data();
        assertEquals("completed", data.getString("status"));
        assertNotNull(data.getString("messageId", null), "saved: " + data);
        assertEquals(FakeUpstream.pacedText(20), SseClient.deltas(events));
        assertEquals("completed", messageStatus(data.getString("messageId")));
    }

    @Test
    @Order(4)
    void aSaveThatKeepsFailingEndsWithPersistenceFailedKeepsTheTextAndIsWrittenWhenTheDatabaseIsBack()
            throws Exception {
        User user = new User();
        String marker = "unsaved " + UUID.randomUUID();
        JsonObject created = user.createChat(marker, "paced:20:50");
        String id = created.getString("streamId");
        SseClient follower = user.follow(id);
        proxy.mode(TcpProxy.Mode.REFUSE);
        List<SseClient.Event> events;
        JsonObject state;
        try {
            events = follower.untilTerminal(SAVE_RETRY_SECONDS + 30);
            state = SseClient.json(user.send("GET", "api/streams/" + id, null).body());
            JsonObject metrics = SseClient.json(user.send("GET", "api/metrics", null).body());
            assertTrue(metrics.getJsonObject("streams").getInt("unsaved") >= 1, "counted as unsaved: " + metrics);
        } finally {
            proxy.mode(TcpProxy.Mode.PASS);
        }
        SseClient.Event last = SseClient.last(events);
        assertEquals("error", last.name(), "never told completed for an answer that is not saved: " + last);
        assertEquals("PERSISTENCE_FAILED", last.data().getString("code"));
        assertEquals(FakeUpstream.pacedText(20), SseClient.deltas(events));
        assertEquals(FakeUpstream.pacedText(20), state.getString("content"), "the text stays readable: " + state);
        // the node tries again every 30 s: the answer is written once the database is back
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        String saved = null;
        while (saved == null && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            saved = answerOf(id);
        }
        assertEquals(FakeUpstream.pacedText(20), saved, "the answer was saved after the database came back");
    }

    // --- rule 3: SIGTERM saves every running stream as partial, tells the followers, then stops

    @Test
    @Order(5)
    void sigtermSavesEveryRunningStreamAsPartialAndTellsItsFollowers() throws Exception {
        User user = new User();
        List<String> ids = new ArrayList<>();
        List<SseClient> followers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonObject created = user.createChat("sigterm " + i + " " + UUID.randomUUID(), "paced:400:50");
            ids.add(created.getString("streamId"));
            followers.add(user.follow(created.getString("streamId")));
        }
        for (SseClient f : followers) {
            f.take(3, 10); // stream, then text
        }
        long start = System.nanoTime();
        server.terminate();
        for (SseClient f : followers) {
            SseClient.Event last = SseClient.last(f.untilTerminal(30));
            assertTrue(List.of("stopped", "error").contains(last.name()), "a terminal event: " + last);
        }
        assertTrue(server.process.waitFor(60, TimeUnit.SECONDS), "the server stopped");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        for (String id : ids) {
            assertEquals("stopped:server_shutdown", recordOf(id), "stream " + id);
            String text = answerOf(id);
            assertNotNull(text, "the partial answer of " + id + " was saved");
            assertFalse(text.isEmpty());
            assertEquals("partial", messageStatusOfStream(id));
        }
        System.out.println("FaultsIT: SIGTERM with 4 running streams: stopped in " + ms + " ms");
    }

    // --- rule 4: kill -9, then a restart closes what was left running

    @Test
    @Order(6)
    void afterKillMinus9ARestartClosesTheOrphanedRecordsAndTheEndpointsAgree() throws Exception {
        server.kill(); // stopped by the SIGTERM test already, unless that failed early
        server = Server.start("faults-2", dbUrl);
        User user = new User();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JsonObject created = user.createChat("killed " + i + " " + UUID.randomUUID(), "paced:400:50");
            ids.add(created.getString("streamId"));
            user.follow(created.getString("streamId")).take(2, 10);
        }
        server.kill();
        for (String id : ids) {
            assertTrue(recordOf(id).startsWith("connecting:") || recordOf(id).startsWith("streaming:"),
                    "left running by the crash: " + recordOf(id));
        }
        server = Server.start("faults-3", dbUrl);
        for (String id : ids) {
            assertEquals("error:server_crashed", recordOf(id));
            HttpResponse<String> state = user.send("GET", "api/streams/" + id, null);
            assertEquals(200, state.statusCode(), state.body());
            String status = SseClient.json(state.body()).getString("status");
            assertEquals("error", status, "the state endpoint says it ended: " + state.body());
            HttpResponse<String> events = user.send("GET", "api/streams/" + id + "/events", null);
            assertEquals(410, events.statusCode(), "and the events endpoint agrees: " + events.body());
            String conversation = SseClient.json(state.body()).getString("conversationId");
            HttpResponse<String> messages = user.send("GET", "api/conversations/" + conversation + "/messages", null);
            JsonObject answer = Json.createReader(new java.io.StringReader(messages.body())).readArray()
                    .getJsonObject(1);
            assertEquals("partial", answer.getString("status"), "the lost answer shows as interrupted: " + answer);
        }
    }

    // --- rule 10: a request-header timeout, in front (server-config/nginx/sluice.conf)

    @Test
    @Order(7)
    void throughTheNginxConfigurationSlowHeadersAreCutAndStreamsFlowUnbuffered() throws Exception {
        Path nginx = Nginx.binary();
        Assumptions.assumeTrue(nginx != null, "no nginx (Debian's package; .ci/run installs it): skipped");
        try (Nginx proxy = Nginx.start(nginx, Path.of("target", "faults-it", "nginx").toAbsolutePath(),
                List.of(server.port))) {
            int port = proxy.port;
            URI front = URI.create("http://127.0.0.1:" + port + "/");
            // 20 clients that trickle a header byte every 2 s: cut within the 10 s header timeout (and a margin)
            long start = System.nanoTime();
            List<java.util.concurrent.CompletableFuture<Long>> cut = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                java.net.Socket slow = new java.net.Socket("127.0.0.1", port);
                slow.getOutputStream().write("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                cut.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> trickle(slow, start)));
            }
            for (var c : cut) {
                long ms = c.get(40, TimeUnit.SECONDS);
                assertTrue(ms >= 9_000 && ms < 16_000, "a slow header was cut after " + ms + " ms");
            }
            // a stream through the proxy arrives event by event, not when it ends
            User user = new User();
            HttpResponse<String> created = user.http.send(HttpRequest.newBuilder(front.resolve("api/streams"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            Json.createObjectBuilder().add("type", "chat").add("message", "via nginx")
                                    .add("model", "paced:30:100").build().toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            String id = SseClient.json(created.body()).getString("streamId");
            SseClient sse = SseClient.get(user.http, front.resolve("api/streams/" + id + "/events"), Map.of());
            assertEquals(200, sse.status, sse.errorBody);
            sse.take(3, 5);
            assertFalse(sse.ended().isDone(), "the first events came while the 3 s stream still ran");
            assertEquals("done", SseClient.last(sse.untilTerminal(30)).name());
        }
    }

    /** Sends a header byte every 2 s until the peer closes; ms from {@code start} until then. */
    private static long trickle(java.net.Socket socket, long start) {
        try (socket) {
            socket.setSoTimeout(2000);
            while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(40)) {
                try {
                    socket.getInputStream().read(); // -1 (closed), or an error page before the close: cut
                    break;
                } catch (java.net.SocketTimeoutException quiet) {
                    socket.getOutputStream().write('a');
                }
            }
        } catch (IOException closed) {
            // reset by the peer: cut
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    // --- helpers

    private static void assertUnavailable(HttpResponse<String> r) {
        assertEquals(503, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                r.headers().toString());
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), "Retry-After");
        assertEquals("urn:sluice:problem:database-unavailable", SseClient.json(r.body()).getString("type"));
        assertFalse(r.body().contains("Exception"), "no stack trace: " + r.body());
    }

    private static void awaitReady(User user) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (user.send("GET", "health/ready", null).statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "ready again within 30 s of the database coming back");
            Thread.sleep(200);
        }
    }

    private static String chat(String message, String model) {
        return Json.createObjectBuilder().add("message", message).add("model", model).build().toString();
    }

    /** {@code status:end_reason} of a stream record, straight from PostgreSQL. */
    private static String recordOf(String streamId) throws Exception {
        return queryOne("SELECT status || ':' || COALESCE(end_reason, '') FROM streams WHERE id = ?", streamId);
    }

    /** The saved answer of a chat stream, or {@code null}. */
    private static String answerOf(String streamId) throws Exception {
        return queryOne("SELECT m.content FROM streams s JOIN messages m ON m.id = s.message_id WHERE s.id = ?",
                streamId);
    }

    private static String messageStatusOfStream(String streamId) throws Exception {
        return queryOne("SELECT m.status FROM streams s JOIN messages m ON m.id = s.message_id WHERE s.id = ?",
                streamId);
    }

    private static String messageStatus(String messageId) throws Exception {
        return queryOne("SELECT status FROM messages WHERE id = ?", messageId);
    }

    private static String queryOne(String sql, String parameter) throws Exception {
        String user = System.getenv().getOrDefault("SLUICE_DB_USER", "");
        String password = System.getenv().getOrDefault("SLUICE_DB_PASSWORD", "");
        try (Connection c = DriverManager.getConnection(dbUrl, user, password);
             PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, parameter);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    /**
     * An anonymous user of the server started here (its cookie identifies it), at an address of its own: the server
     * trusts 127.0.0.1 as a proxy (the default), so each user's {@code X-Forwarded-For} is its client address for
     * the per-address rate limits.
     */
    private static final class User {
        private static final java.util.concurrent.atomic.AtomicInteger ADDRESSES =
                new java.util.concurrent.atomic.AtomicInteger();
        final String address = "203.0.113." + (ADDRESSES.incrementAndGet() % 250 + 1);
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(10)).build();

        HttpResponse<String> send(String method, String path, String json) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(server.uri(path)).timeout(Duration.ofSeconds(60))
                    .header("X-Forwarded-For", address);
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        JsonObject createChat(String message, String model) throws Exception {
            HttpResponse<String> r = send("POST", "api/streams", Json.createObjectBuilder().add("type", "chat")
                    .add("message", message).add("model", model).build().toString());
            assertEquals(201, r.statusCode(), r.body());
            return SseClient.json(r.body());
        }

        SseClient follow(String streamId) throws Exception {
            SseClient sse = SseClient.get(http, server.uri("api/streams/" + streamId + "/events"),
                    Map.of("X-Sluice-Client-Id", "faults-" + UUID.randomUUID(), "X-Forwarded-For", address));
            assertEquals(200, sse.status, sse.errorBody);
            return sse;
        }
    }

    /**
     * One answer of {@code /health/ready} while the server started, with {@code /health/live} asked right after it
     * (0 when not asked or not answered).
     */
    private record Probe(long atMs, int ready, int live, String body) {
    }

    /** A Payara Micro process with the WAR at the context root. */
    private static final class Server {
        final Process process;
        final int port;
        /** The readiness answers it gave while it started, from its first answer that was not a 404. */
        final List<Probe> probes = new ArrayList<>();

        private Server(Process process, int port) {
            this.process = process;
            this.port = port;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + "/" + path);
        }

        static Server start(String name, String databaseUrl) throws Exception {
            File micro = new File(System.getenv().getOrDefault("MICRO_JAR", "target/payara-micro.jar"));
            File war = new File(System.getProperty("sluice.war", "target/sluice.war"));
            Path dir = Files.createDirectories(Path.of("target", "faults-it"));
            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = new ArrayList<>(List.of(java, "-Djdk.httpclient.bufsize=4096", "-jar",
                    micro.getAbsolutePath(), "--nohazelcast", "--port", Integer.toString(port), "--contextroot", "/",
                    "--deploy", war.getAbsolutePath()));
            String preboot = System.getProperty("sluice.preboot");
            if (preboot != null) {
                command.addAll(List.of("--prebootcommandfile", preboot));
            }
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve(name + ".log").toFile()).directory(dir.toFile());
            Map<String, String> env = builder.environment();
            Map<String, String> settings = new HashMap<>();
            settings.put("SLUICE_DB_URL", databaseUrl);
            settings.put("SLUICE_UPSTREAM_URL", "http://127.0.0.1:" + UPSTREAM_PORT + "/v1");
            settings.put("SLUICE_SAVE_RETRY_SECONDS", Integer.toString(SAVE_RETRY_SECONDS));
            settings.put("SLUICE_DB_TIMEOUT_SECONDS", "2");
            settings.put("SLUICE_RESUME_GRACE_SECONDS", "60");
            settings.put("SLUICE_NEW_IDENTITIES_PER_MINUTE", Integer.toString(IDENTITIES_PER_MINUTE));
            settings.put("SLUICE_STREAMS_PER_MINUTE", Integer.toString(STREAMS_PER_MINUTE));
            settings.put("SLUICE_WARMUP", "true");
            settings.put("SLUICE_WARMUP_STREAMS", Integer.toString(WARMUP_STREAMS));
            settings.put("SLUICE_WARMUP_SECONDS", "60");
            env.putAll(settings);
            Server server = new Server(builder.start(), port);
            server.awaitUp(dir.resolve(name + ".log"));
            return server;
        }

        private void awaitUp(Path log) throws Exception {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long start = System.nanoTime();
            long deadline = start + TimeUnit.SECONDS.toNanos(240);
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new AssertionError("the server exited while starting; see " + log);
                }
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("health/ready"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    int live = 0;
                    if (r.statusCode() == 503) {
                        live = http.send(HttpRequest.newBuilder(uri("health/live")).timeout(Duration.ofSeconds(5))
                                .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                    }
                    if (r.statusCode() != 404) { // 404: Payara is up, the application not yet
                        probes.add(new Probe(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), r.statusCode(),
                                live, r.body()));
                    }
                    if (r.statusCode() == 200) {
                        return;
                    }
                } catch (IOException notYet) {
                    // still booting
                }
                Thread.sleep(200);
            }
            process.destroyForcibly();
            throw new AssertionError("the server was not ready within 240 s; see " + log);
        }

        /** SIGTERM, as a container orchestrator stops a pod. */
        void terminate() {
            process.destroy();
        }

        /** SIGKILL ({@code kill -9}): nothing runs on the way out. */
        void kill() {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
