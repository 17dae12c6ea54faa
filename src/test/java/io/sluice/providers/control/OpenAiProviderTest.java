package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible client against a local JDK HttpServer: what reaches the listener for each way an
 * upstream can answer, and that cancelling closes the connection.
 */
class OpenAiProviderTest {

    private interface Script {
        void run(HttpExchange exchange) throws Exception;
    }

    private HttpServer server;
    private final ExecutorService serverThreads = Executors.newCachedThreadPool();
    private final ExecutorService clientThreads = Executors.newFixedThreadPool(2);
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final AtomicReference<Script> script = new AtomicReference<>();
    private final AtomicReference<String> requestBody = new AtomicReference<>();
    private final AtomicReference<String> authorization = new AtomicReference<>();
    private final CompletableFuture<Long> serverSawClose = new CompletableFuture<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(serverThreads);
        server.createContext("/v1/chat/completions", exchange -> {
            requestBody.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            try {
                script.get().run(exchange);
            } catch (IOException e) {
                serverSawClose.complete(System.nanoTime());
            } catch (Exception e) {
                throw new IOException(e);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        serverThreads.shutdownNow();
        clientThreads.shutdownNow();
        timers.shutdownNow();
    }

    private OpenAiProvider provider(Duration timeout) {
        return new OpenAiProvider("http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "k-123", timeout,
                clientThreads, timers);
    }

    private static CompletionRequest request() {
        return new CompletionRequest("m-1", "be brief", List.of(new CompletionRequest.ChatMessage("user", "hi")));
    }

    private static OutputStream sse(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    private static void send(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String chunk(String content, String finish) {
        return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":"
                + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n";
    }

    @Test
    void streamsDeltasThenCompletesAndSendsTheRequestAsOpenAiExpects() throws Exception {
        script.set(exchange -> {
            OutputStream out = sse(exchange);
            send(out, chunk("Hel", null) + chunk("lo", null) + chunk("", "stop"));
            send(out, "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\ndata: [DONE]\n\n");
        });
        Recorder recorder = new Recorder();
        provider(Duration.ofSeconds(5)).stream(request(), recorder);
        assertEquals("completed", recorder.outcome.get(5, TimeUnit.SECONDS));
        assertEquals("Hello", recorder.content.toString());
        assertEquals("stop", recorder.finishReason);
        assertEquals(3, recorder.usage.getInt("total_tokens"));
        assertEquals("Bearer k-123", authorization.get());
        String body = requestBody.get();
        assertTrue(body.contains("\"stream\":true") && body.contains("\"include_usage\":true"), body);
        assertTrue(body.contains("{\"role\":\"system\",\"content\":\"be brief\"}"), body);
        assertTrue(body.contains("\"model\":\"m-1\""), body);
    }

    @Test
    void aFinishReasonWithoutDoneStillCompletes() throws Exception {
        script.set(exchange -> send(sse(exchange), chunk("ok", "length")));
        Recorder recorder = new Recorder();
        provider(Duration.ofSeconds(5)).stream(request(), recorder);
        assertEquals("completed", recorder.outcome.get(5, TimeUnit.SECONDS));
        assertEquals("length", recorder.finishReason);
    }

    @Test
    void aStreamCutBeforeItsFinishIsAnUpstreamError() throws Exception {
        script.set(exchange -> send(sse(exchange), chunk("half", null)));
        Recorder recorder = failing(Duration.ofSeconds(5));
        assertEquals(FailureCode.UPSTREAM_ERROR, recorder.failure.code());
        assertEquals("half", recorder.content.toString());
    }

    @Test
    void statusesMapToStableCodes() throws Exception {
        assertEquals(FailureCode.UPSTREAM_AUTH, failWithStatus(401, null).code());
        assertEquals(FailureCode.UPSTREAM_AUTH, failWithStatus(403, null).code());
        UpstreamException limited = failWithStatus(429, "12");
        assertEquals(FailureCode.RATE_LIMITED, limited.code());
        assertEquals(12L, limited.retryAfterSeconds());
        assertEquals(429, limited.upstreamStatus());
        UpstreamException server = failWithStatus(503, null);
        assertEquals(FailureCode.UPSTREAM_ERROR, server.code());
        assertTrue(server.getMessage().contains("HTTP 503") && server.getMessage().contains("nope 503"),
                server.getMessage());
        assertEquals(FailureCode.UPSTREAM_ERROR, failWithStatus(400, null).code());
    }

    @Test
    void retryAfterAcceptsSecondsAndHttpDates() {
        assertEquals(7L, UpstreamCall.retryAfterSeconds(" 7 "));
        String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now().plusSeconds(10));
        long seconds = UpstreamCall.retryAfterSeconds(inTenSeconds);
        assertTrue(seconds >= 8 && seconds <= 10, "about 10 s: " + seconds);
        assertNull(UpstreamCall.retryAfterSeconds("soon"));
        assertNull(UpstreamCall.retryAfterSeconds(null));
    }

    @Test
    void silenceLongerThanTheTimeoutFailsAndClosesTheConnection() throws Exception {
        script.set(exchange -> {
            OutputStream out = sse(exchange);
            send(out, chunk("before", null));
            Thread.sleep(1500);
            for (int i = 0; i < 50; i++) { // find out that the client has gone
                send(out, ": ping\n\n");
                Thread.sleep(50);
            }
        });
        Recorder recorder = failing(Duration.ofMillis(500));
        assertEquals(FailureCode.UPSTREAM_TIMEOUT, recorder.failure.code());
        assertNotNull(serverSawClose.get(5, TimeUnit.SECONDS));
    }

    @Test
    void unparseableChunkIsAProtocolError() throws Exception {
        script.set(exchange -> send(sse(exchange), chunk("fine", null) + "data: {oops\n\n"));
        Recorder recorder = failing(Duration.ofSeconds(5));
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, recorder.failure.code());
        assertEquals("fine", recorder.content.toString());
    }

    @Test
    void anHtmlPageAnsweredWith200IsAProtocolError() throws Exception {
        script.set(exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, 0);
            send(exchange.getResponseBody(), "<html><body>Please log in to the proxy</body></html>");
        });
        Recorder recorder = failing(Duration.ofSeconds(5));
        assertEquals(FailureCode.UPSTREAM_PROTOCOL, recorder.failure.code());
        assertTrue(recorder.failure.getMessage().contains("text/html"), recorder.failure.getMessage());
    }

    @Test
    void anInStreamErrorObjectIsAnUpstreamError() throws Exception {
        script.set(exchange -> send(sse(exchange), "data: {\"error\":{\"message\":\"overloaded\"}}\n\n"));
        Recorder recorder = failing(Duration.ofSeconds(5));
        assertEquals(FailureCode.UPSTREAM_ERROR, recorder.failure.code());
        assertTrue(recorder.failure.getMessage().contains("overloaded"));
    }

    @Test
    void aRefusedConnectionIsUnavailable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Recorder recorder = new Recorder();
        new OpenAiProvider("http://127.0.0.1:" + port + "/v1", null, Duration.ofSeconds(5), clientThreads, timers)
                .stream(request(), recorder);
        assertEquals("failed", recorder.outcome.get(10, TimeUnit.SECONDS));
        assertEquals(FailureCode.UPSTREAM_UNAVAILABLE, recorder.failure.code());
    }

    @Test
    void cancelClosesTheUpstreamConnectionWithinASecondAndReportsNothingMore() throws Exception {
        script.set(exchange -> {
            OutputStream out = sse(exchange);
            for (int i = 0; i < 400; i++) {
                send(out, chunk("w" + i + " ", null));
                Thread.sleep(25);
            }
        });
        Recorder recorder = new Recorder();
        Generation generation = provider(Duration.ofSeconds(5)).stream(request(), recorder);
        recorder.firstDelta.get(5, TimeUnit.SECONDS);
        long cancelled = System.nanoTime();
        generation.cancel();
        long closed = serverSawClose.get(5, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(closed - cancelled);
        assertTrue(millis < 1000, "upstream saw the close after " + millis + " ms");
        Thread.sleep(200);
        assertTrue(!recorder.outcome.isDone(), "no terminal call after cancel");
    }

    // --- the raw record (API.md section 13)

    @Test
    void theRawRecordKeepsEachEventsDataAsReceivedInOrderWithItsArrivalTime() throws Exception {
        String first = "{ \"choices\" : [{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}],"
                + "\"x_extra\":1.50}";
        script.set(exchange -> {
            OutputStream out = sse(exchange);
            send(out, ": a comment, not kept\n\ndata: " + first + "\n\n");
            Thread.sleep(300);
            // one event in two data lines (joined with LF), and CRLF line ends
            send(out, "data: {\"choices\":[{\"index\":0,\r\ndata: \"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}"
                    + "\r\n\r\n");
            send(out, "data: [DONE]\n\n");
        });
        Recorder recorder = new Recorder(1 << 20);
        provider(Duration.ofSeconds(5)).stream(request(), recorder);
        assertEquals("completed", recorder.outcome.get(5, TimeUnit.SECONDS));
        String text = RawCapture.decode(recorder.raw.encode());
        String second = "{\"choices\":[{\"index\":0,\n\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}";
        assertTrue(text.startsWith("{\"chunks\":[" + first + "," + second + "],"), text);
        JsonObject record = jakarta.json.Json.createReader(new java.io.StringReader(text)).readObject();
        assertEquals(200, record.getInt("status"));
        int at0 = record.getJsonArray("receivedAt").getInt(0);
        int at1 = record.getJsonArray("receivedAt").getInt(1);
        assertTrue(at1 - at0 >= 250, "arrival times follow the upstream's pause: " + at0 + ", " + at1);
        assertTrue(record.getInt("doneAt") >= at1);
        assertEquals(false, record.getBoolean("truncated"));
    }

    @Test
    void theRawRecordOfAFailureKeepsTheBadLineTheInStreamErrorAndTheStatus() throws Exception {
        script.set(exchange -> send(sse(exchange), chunk("fine", null) + "data: {oops\n\n"));
        Recorder malformed = new Recorder(1 << 20);
        provider(Duration.ofSeconds(5)).stream(request(), malformed);
        assertEquals("failed", malformed.outcome.get(10, TimeUnit.SECONDS));
        JsonObject record = decode(malformed.raw);
        assertEquals(2, record.getJsonArray("chunks").size());
        assertEquals("fine", record.getJsonArray("chunks").getJsonObject(0).getJsonArray("choices").getJsonObject(0)
                .getJsonObject("delta").getString("content"));
        assertEquals("{oops", record.getJsonArray("chunks").getString(1), "kept as a string");

        script.set(exchange -> send(sse(exchange), "data: {\"error\":{\"message\":\"overloaded\"}}\n\n"));
        Recorder inStream = new Recorder(1 << 20);
        provider(Duration.ofSeconds(5)).stream(request(), inStream);
        assertEquals("failed", inStream.outcome.get(10, TimeUnit.SECONDS));
        assertEquals("overloaded", decode(inStream.raw).getJsonArray("chunks").getJsonObject(0)
                .getJsonObject("error").getString("message"));

        Recorder status = new Recorder(1 << 20);
        script.set(exchange -> {
            exchange.sendResponseHeaders(500, 2);
            exchange.getResponseBody().write("{}".getBytes(StandardCharsets.UTF_8));
        });
        provider(Duration.ofSeconds(5)).stream(request(), status);
        assertEquals("failed", status.outcome.get(10, TimeUnit.SECONDS));
        JsonObject failed = decode(status.raw);
        assertEquals(500, failed.getInt("status"));
        assertEquals(0, failed.getJsonArray("chunks").size(), "an error body is no event");
        assertEquals(jakarta.json.JsonValue.NULL, failed.get("doneAt"));
    }

    private static JsonObject decode(RawCapture raw) {
        return jakarta.json.Json.createReader(new java.io.StringReader(RawCapture.decode(raw.encode()))).readObject();
    }

    @Test
    void rejectsANonHttpBaseUrl() {
        assertInstanceOf(IllegalArgumentException.class, org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> new OpenAiProvider("ftp://x/v1", null, Duration.ofSeconds(1), clientThreads, timers)));
    }

    private UpstreamException failWithStatus(int status, String retryAfter) throws Exception {
        script.set(exchange -> {
            byte[] body = ("{\"error\":{\"message\":\"nope " + status + "\"}}").getBytes(StandardCharsets.UTF_8);
            if (retryAfter != null) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        });
        return failing(Duration.ofSeconds(5)).failure;
    }

    private Recorder failing(Duration timeout) throws Exception {
        Recorder recorder = new Recorder();
        provider(timeout).stream(request(), recorder);
        assertEquals("failed", recorder.outcome.get(10, TimeUnit.SECONDS));
        return recorder;
    }

    /** Records what the provider reports; terminal calls complete {@link #outcome}. */
    private static final class Recorder implements GenerationListener {
        /** The raw record it keeps, or {@code null}. */
        final RawCapture raw;
        final StringBuilder content = new StringBuilder();
        final CompletableFuture<String> outcome = new CompletableFuture<>();
        final CompletableFuture<Void> firstDelta = new CompletableFuture<>();
        volatile String finishReason;
        volatile JsonObject usage;
        volatile UpstreamException failure;

        Recorder() {
            this(-1);
        }

        /** @param rawMaxBytes the bound of its raw record, or -1 for none */
        Recorder(int rawMaxBytes) {
            raw = rawMaxBytes < 0 ? null : new RawCapture(rawMaxBytes);
        }

        @Override
        public RawCapture rawCapture() {
            return raw;
        }

        @Override
        public synchronized void onDelta(String c, String reasoning) {
            if (c != null) {
                content.append(c);
            }
            firstDelta.complete(null);
        }

        @Override
        public void onComplete(String finish, JsonObject u, String model) {
            finishReason = finish;
            usage = u;
            outcome.complete("completed");
        }

        @Override
        public void onFailure(UpstreamException f) {
            failure = f;
            outcome.complete("failed");
        }
    }
}
