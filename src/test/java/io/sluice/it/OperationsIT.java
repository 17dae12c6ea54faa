package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.operations.control.Promtool;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.CookieManager;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Operations (API.md sections 11 and 12) against the deployed WAR: health, Prometheus metrics (parsed by promtool; the
 * JVM's {@code jvm_*} figures; known label values at zero before anything counted them),
 * the OpenAPI document, and the edge rules checked with raw requests (the browser side is in {@code BrowserIT}):
 * foreign origins and host names refused, CORS preflights answered for listed origins only, security headers, and
 * the {@code Secure} cookie behind a TLS-terminating proxy on HTTP and WebSocket handshakes alike.
 */
class OperationsIT extends BlackBoxTest {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void healthSaysLiveAndReadyWithTheDatabase() throws Exception {
        HttpResponse<String> live = get("health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertEquals("UP", SseClient.json(live.body()).getString("status"));
        HttpResponse<String> ready = get("health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        JsonObject health = SseClient.json(ready.body());
        assertEquals("UP", health.getString("status"));
        assertTrue(health.getJsonArray("checks").stream().map(JsonObject.class::cast)
                .anyMatch(c -> c.getString("name").equals("database") && c.getString("status").equals("UP")), ready.body());
        assertTrue(live.headers().allValues("Set-Cookie").isEmpty(), "a probe gets no identity");
    }

    @Test
    void afterOneHundredStreamsTheFirstTokenHistogramCountedOneHundred() throws Exception {
        // the single upstream's route: no SLUICE_MODELS, no SLUICE_UPSTREAM_MODEL (README, "Metrics")
        String route = "route=\"default\",type=\"chat\"";
        String beforeText = scrape();
        long before = sample(beforeText, "sluice_stream_first_token_seconds_count{" + route + "}");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int u = 0; u < 4; u++) {
                int user = u;
                done.add(pool.submit(() -> {
                    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                            .cookieHandler(new CookieManager()).build();
                    int ok = 0;
                    for (int i = 0; i < 25; i++) {
                        // created and followed in one request: no resume grace between the two
                        String body = Json.createObjectBuilder().add("message", "ops " + user + " " + i)
                                .add("model", "paced:2:1").build().toString();
                        HttpResponse<String> sse = client.send(HttpRequest.newBuilder(uri("api/chat/stream"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        assertEquals(200, sse.statusCode(), sse.body());
                        assertTrue(sse.body().contains("event: done"), sse.body());
                        ok++;
                    }
                    return ok;
                }));
            }
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get();
            }
            assertEquals(100, total);
        } finally {
            pool.shutdownNow();
        }
        String completed = "sluice_streams_total{code=\"none\",route=\"default\",status=\"completed\",type=\"chat\"}";
        long completedBefore = sample(beforeText, completed);
        String text = scrapeUntil(completed, completedBefore + 100);
        assertEquals(before + 100, sample(text, "sluice_stream_first_token_seconds_count{" + route + "}"), text);
        assertEquals(completedBefore + 100, sample(text, completed), text);
        assertTrue(sample(text, "sluice_stream_event_interval_seconds_count{" + route + "}") >= 100,
                "each stream had at least two deltas");
        JsonObject dashboard = SseClient.json(get("api/metrics").body());
        assertTrue(dashboard.getJsonObject("firstTokenSeconds").getJsonNumber("p95").doubleValue() > 0);
        assertEquals(1.0, dashboard.getJsonObject("thresholds").getJsonNumber("firstTokenSeconds").doubleValue());
    }

    @Test
    void aPrometheusScrapeParses() throws Exception {
        HttpResponse<String> metrics = get("metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        for (String name : List.of("sluice_streams_active", "sluice_connections_active", "sluice_streams_total",
                "sluice_stream_first_token_seconds", "sluice_stream_event_interval_seconds",
                "sluice_stream_resumes_total", "sluice_upstream_errors_total")) {
            assertTrue(metrics.body().contains("# TYPE " + name + " "), name + " in\n" + metrics.body());
        }
        assumeTrue(Promtool.path() != null, Promtool.MISSING);
        Promtool.Result lint = Promtool.run(new File("."), metrics.body(), "check", "metrics");
        assertEquals(0, lint.exitCode(), lint.output());
    }

    @Test
    void theJvmFiguresAndTheKnownLabelValuesAreThereFromTheStart() throws Exception {
        String text = scrape();
        for (String series : List.of("jvm_memory_used_bytes{area=\"heap\",", "jvm_memory_max_bytes{area=\"heap\",",
                "jvm_memory_committed_bytes{area=\"nonheap\",", "jvm_threads_live_threads ",
                "jvm_gc_memory_allocated_bytes_total ", "jvm_classes_loaded_classes ", "process_uptime_seconds ")) {
            assertTrue(text.contains("\n" + series), series + " in\n" + text);
        }
        assertTrue(sample(text, "jvm_threads_live_threads") > 0, text);
        // nothing in this suite resumes over WebSocket, stops a system-prompt stream or loses a node: yet each series
        // is there, at zero, for rate() and the alert rules
        assertZero(text, "sluice_stream_resumes_total{transport=\"websocket\"}");
        assertZero(text, "sluice_upstream_errors_total{code=\"NODE_LOST\"}");
        assertZero(text, "sluice_stream_stops_total{reason=\"server_shutdown\"}");
        assertZero(text, "sluice_streams_started_total{route=\"default\",type=\"system_prompt\"}");
        assertZero(text, "sluice_streams_total{code=\"none\",route=\"default\",status=\"completed\","
                + "type=\"system_prompt\"}");
        assertZero(text, "sluice_streams_started_total{route=\"simulated\",type=\"agent\"}");
    }

    /** Asserts that the scrape has the sample line {@code series} at 0. */
    private static void assertZero(String text, String series) {
        assertTrue(Pattern.compile("(?m)^" + Pattern.quote(series) + " 0(\\.0)?$").matcher(text).find(),
                series + " 0 in\n" + text);
    }

    @Test
    void aFailedStreamAndAResumeAreCounted() throws Exception {
        String before = scrape();
        String body = Json.createObjectBuilder().add("type", "topic_title").add("input", "ops fail")
                .add("model", "fail:500").build().toString();
        HttpResponse<String> created = post("api/streams", "application/json", body, null);
        String events = SseClient.json(created.body()).getString("eventsUrl");
        HttpResponse<String> sse = http.send(HttpRequest.newBuilder(uri(events)).header("Last-Event-ID", "1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(sse.body().contains("UPSTREAM_ERROR"), sse.body());
        String after = scrapeUntil("sluice_upstream_errors_total{code=\"UPSTREAM_ERROR\"}",
                sample(before, "sluice_upstream_errors_total{code=\"UPSTREAM_ERROR\"}") + 1);
        assertEquals(sample(before, "sluice_upstream_errors_total{code=\"UPSTREAM_ERROR\"}") + 1,
                sample(after, "sluice_upstream_errors_total{code=\"UPSTREAM_ERROR\"}"));
        assertEquals(sample(before, "sluice_stream_resumes_total{transport=\"sse\"}") + 1,
                sample(after, "sluice_stream_resumes_total{transport=\"sse\"}"));
        assertEquals(sample(before, "sluice_stream_resume_latency_seconds_count{transport=\"sse\"}") + 1,
                sample(after, "sluice_stream_resume_latency_seconds_count{transport=\"sse\"}"));
    }

    @Test
    void theOpenApiDocumentDescribesEveryEndpoint() throws Exception {
        HttpResponse<String> doc = http.send(HttpRequest.newBuilder(uri("openapi"))
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, doc.statusCode(), doc.body());
        JsonObject openapi = SseClient.json(doc.body());
        assertTrue(openapi.getString("openapi").startsWith("3."));
        JsonObject paths = openapi.getJsonObject("paths");
        for (String path : List.of("/api/chat/stream", "/api/chat/resume", "/api/chat/abort", "/api/streams",
                "/api/streams/{id}", "/api/streams/{id}/events", "/api/streams/{id}/stop", "/api/conversations",
                "/api/conversations/{id}", "/api/conversations/{id}/messages", "/api/agents/roster",
                "/api/agents/runs", "/api/info", "/api/metrics", "/metrics", "/health/live", "/health/ready",
                "/ws/agents")) {
            assertTrue(paths.containsKey(path), path + " in " + paths.keySet());
        }
        JsonObject responses = openapi.getJsonObject("components").getJsonObject("responses");
        assertTrue(responses.getJsonObject("EventStream").getJsonObject("content").containsKey("text/event-stream"));
        assertTrue(responses.getJsonObject("BadRequest").getJsonObject("content")
                .containsKey("application/problem+json"));
        assertEquals("#/components/responses/EventStream", paths.getJsonObject("/api/streams/{id}/events")
                .getJsonObject("get").getJsonObject("responses").getJsonObject("200").getString("$ref"));
        HttpResponse<String> ui = get("openapi.html");
        assertEquals(200, ui.statusCode());
        assertTrue(ui.body().contains("webjars/swagger-ui/"), ui.body());
    }

    @Test
    void foreignOriginsCannotChangeStateAndGetNoIdentity() throws Exception {
        String own = origin();
        HttpResponse<String> page = get("");
        assertEquals(200, page.statusCode());
        String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp.contains("script-src 'self'") && !csp.matches(".*script-src[^;]*unsafe-inline.*"),
                "no inline script: " + csp);
        assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));
        String abort = "{\"streamId\":\"00000000-0000-0000-0000-000000000000\",\"reason\":\"user\"}";
        for (String foreign : List.of("http://evil.example", own.replaceFirst(":\\d+$", ":1"), "null")) {
            HttpResponse<String> refused = post("api/chat/abort", "text/plain", abort, foreign);
            assertEquals(403, refused.statusCode(), foreign);
            assertEquals("application/problem+json", refused.headers().firstValue("Content-Type").orElse(""));
            assertTrue(refused.headers().allValues("Set-Cookie").isEmpty(), "never a new identity");
        }
        assertEquals(404, post("api/chat/abort", "text/plain", abort, own).statusCode(), "own origin: passes");
        HttpClient fresh = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> noCookie = fresh.send(HttpRequest.newBuilder(uri("api/chat/abort"))
                .header("Content-Type", "text/plain").header("Origin", own)
                .POST(HttpRequest.BodyPublishers.ofString(abort)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, noCookie.statusCode(), "a browser's POST without an identity is refused");
        assertTrue(noCookie.headers().allValues("Set-Cookie").isEmpty(), noCookie.headers().toString());
    }

    @Test
    void preflightsAreAnsweredForListedOriginsOnly() throws Exception {
        String listed = System.getProperty("sluice.it.cors.origin", "http://127.0.0.1:"
                + Integer.getInteger("sluice.it.upstream.port", 18089));
        HttpResponse<String> ok = preflight(listed);
        assertEquals(204, ok.statusCode(), ok.body());
        assertEquals(listed, ok.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
        assertEquals("true", ok.headers().firstValue("Access-Control-Allow-Credentials").orElse(""));
        HttpResponse<String> refused = preflight("http://evil.example");
        assertEquals(403, refused.statusCode());
        assertFalse(refused.headers().firstValue("Access-Control-Allow-Origin").isPresent());
    }

    @Test
    void dnsRebindingIsRefusedOnHttpAndWebSocket() throws Exception {
        String response = raw("GET /api/info HTTP/1.1\r\nHost: attacker.example:" + port() + "\r\nConnection: close\r\n\r\n");
        assertTrue(response.startsWith("HTTP/1.1 403"), response);
        String handshake = raw(handshake("attacker.example:" + port(), "http://attacker.example:" + port(), ""));
        assertTrue(handshake.startsWith("HTTP/1.1 403"), handshake);
        String foreign = raw(handshake("localhost:" + port(), "http://evil.example", ""));
        assertTrue(foreign.startsWith("HTTP/1.1 403"), foreign);
        String own = raw(handshake("localhost:" + port(), "http://localhost:" + port(), ""));
        assertTrue(own.startsWith("HTTP/1.1 101"), own);
    }

    @Test
    void theCookieIsSecureBehindAnHttpsProxyOnHttpAndWebSocketAlike() throws Exception {
        String page = raw("GET / HTTP/1.1\r\nHost: localhost:" + port() + "\r\nX-Forwarded-Proto: https\r\n"
                + "Connection: close\r\n\r\n");
        assertTrue(cookieLine(page).contains("; Secure"), page);
        String ws = raw(handshake("localhost:" + port(), "https://localhost:" + port(), "X-Forwarded-Proto: https\r\n"));
        assertTrue(ws.startsWith("HTTP/1.1 101"), ws);
        assertTrue(cookieLine(ws).contains("; Secure"), ws);
        assertEquals(1, ws.lines().filter(l -> l.regionMatches(true, 0, "Set-Cookie:", 0, 11)).count(), "one identity");
        String plain = raw("GET / HTTP/1.1\r\nHost: localhost:" + port() + "\r\nConnection: close\r\n\r\n");
        assertFalse(cookieLine(plain).contains("Secure"), plain);
    }

    // --- helpers

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String type, String body, String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (origin != null) {
            b.header("Origin", origin);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> preflight(String origin) throws Exception {
        return http.send(HttpRequest.newBuilder(uri("api/chat/stream")).header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape() throws Exception {
        return get("metrics").body();
    }

    /**
     * Scrapes until {@code series} reaches {@code expected} (a stream's metrics are recorded just after its terminal
     * event is appended, so a client may read that event a moment earlier), at most 10 s; returns the last scrape.
     */
    private String scrapeUntil(String series, long expected) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        String text = scrape();
        while (sample(text, series) < expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            text = scrape();
        }
        return text;
    }

    /** The value of one sample line, 0 when absent. */
    private static long sample(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+]+)$").matcher(text);
        return m.find() ? Math.round(Double.parseDouble(m.group(1))) : 0;
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path);
    }

    private String origin() {
        return "http://" + base.getHost() + ":" + port();
    }

    private int port() {
        return base.getPort() > 0 ? base.getPort() : 80;
    }

    private String handshake(String host, String origin, String extra) {
        return "GET " + base.getPath() + "ws/agents HTTP/1.1\r\nHost: " + host + "\r\nOrigin: " + origin
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n";
    }

    /** Sends a raw request and reads the response head (and a little of the body). */
    private String raw(String request) throws Exception {
        try (Socket socket = new Socket(base.getHost(), port())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.ISO_8859_1));
            StringBuilder head = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                head.append(line).append('\n');
            }
            return head.toString();
        }
    }

    private static String cookieLine(String head) {
        String line = head.lines().filter(l -> l.regionMatches(true, 0, "Set-Cookie: sluice_uid=", 0, 23))
                .findFirst().orElse(null);
        assertNotNull(line, "a new identity cookie in\n" + head);
        return line;
    }
}
