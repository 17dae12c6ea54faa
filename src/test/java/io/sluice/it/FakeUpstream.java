package io.sluice.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A fake OpenAI-compatible upstream for the black-box tests: the JDK's HttpServer on a fixed port that the
 * deployed WAR is configured with ({@code SLUICE_UPSTREAM_URL}). The request's {@code model} picks the
 * scenario: {@code sample:NAME} and {@code fixture:NAME} replay a recorded stream, {@code fail:STATUS}
 * answers an error, {@code hang}, {@code cut}, {@code malformed} and {@code slow} misbehave, {@code paced:N:MS}
 * streams N chunks {@code "w<i> "} one every MS ms and ends normally ({@code paced:N:MS:length} ends with that
 * finish reason instead of {@code stop}), {@code reason:N:MS} streams N reasoning chunks {@code "r<i> "} then N
 * content chunks, one every MS ms, {@code say:MS:TEXT} streams the URL-encoded TEXT cut into chunks at each
 * {@code |} (a literal bar is {@code %7C}), one every MS ms, {@code flood} streams 20 MB (reasoning, then content) as
 * fast as it can after a 1 s pause, then a slow 15 s tail, and ends normally, {@code big:N[:CHUNK[:MS]]} streams
 * {@link #bigText}(N) in chunks of CHUNK characters (default 4096), MS ms apart (default 0: as fast as it can), and
 * {@code bulk:N} does the same without recording the request (for seeding long conversations, whose requests carry
 * long histories); a request with no {@code model} gets
 * {@link #NO_MODEL}. Each request is recorded under the
 * value of its last message, so that tests running one after another can find their own, and in
 * {@link #calls()}, in order.
 */
final class FakeUpstream implements AutoCloseable {

    /** What the fake saw of one request. */
    static final class Call {
        final JsonObject body;
        final String authorization;
        /** Completes with System.nanoTime() when a write to the client failed (the client closed). */
        final CompletableFuture<Long> closedByClient = new CompletableFuture<>();
        /** Completes when the scenario finished sending everything it meant to send. */
        final CompletableFuture<Void> finished = new CompletableFuture<>();

        Call(JsonObject body, String authorization) {
            this.body = body;
            this.authorization = authorization;
        }

        /** ms from {@code since} (System.nanoTime()) until the client closed this call; fails after {@code seconds}. */
        long closedMillisAfter(long since, int seconds) throws Exception {
            try {
                return TimeUnit.NANOSECONDS.toMillis(closedByClient.get(seconds, TimeUnit.SECONDS) - since);
            } catch (TimeoutException e) {
                throw new AssertionError("the upstream connection was still open " + seconds + " s later; upstream "
                        + (finished.isDone() ? "ran to its end" : "still streaming"));
            }
        }
    }

    /** The scenario of a request that names no model, as the seeds' bodies do ({@code {"prompt"}}). */
    static final String NO_MODEL = "paced:8:25";
    /** The text of {@link #NO_MODEL}. */
    static final String NO_MODEL_TEXT = pacedText(8);

    static final Path SAMPLES = Path.of("src/test/resources/upstream-samples");
    static final Path FIXTURES = Path.of(System.getProperty("sluice.fixtures", "../shared/fixtures/upstream"));

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, CompletableFuture<Call>> calls = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Call> all = new CopyOnWriteArrayList<>();

    FakeUpstream(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(executor);
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    /**
     * Serves {@code html} at {@code path} on this server's origin ({@code http://127.0.0.1:PORT}, or
     * {@code http://localhost:PORT}): the other origins of the cross-origin browser tests.
     */
    void page(String path, String html) {
        server.createContext(path, exchange -> {
            byte[] bytes = html.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
    }

    /** The request whose last user message was {@code marker}, once it arrives. */
    CompletableFuture<Call> call(String marker) {
        return calls.computeIfAbsent(marker, k -> new CompletableFuture<>());
    }

    /** Requests received so far. */
    int requests() {
        return requests.get();
    }

    /** Every request so far, in the order they came. */
    List<Call> calls() {
        return List.copyOf(all);
    }

    /** The requests so far that carry a message with exactly this content, in order. */
    List<Call> callsWith(String content) {
        return all.stream().filter(c -> c.body.getJsonArray("messages").stream()
                .anyMatch(m -> content.equals(m.asJsonObject().getString("content", null)))).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        JsonObject body;
        try (var reader = Json.createReader(new StringReader(
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)))) {
            body = reader.readObject();
        }
        var messages = body.getJsonArray("messages");
        String marker = messages.getJsonObject(messages.size() - 1).getString("content");
        Call call = new Call(body, exchange.getRequestHeaders().getFirst("Authorization"));
        String model = body.getString("model", "");
        if (model.startsWith("bulk:")) {
            try {
                big(exchange, call, Integer.parseInt(model.substring(5)), 4096, 0);
            } catch (IOException | InterruptedException e) {
                // the client left: nothing recorded, nothing to tell
            } finally {
                exchange.close();
            }
            return;
        }
        all.add(call);
        call(marker).complete(call);
        if (model.isEmpty()) {
            model = NO_MODEL; // a request that names no model (the tests set no SLUICE_UPSTREAM_MODEL): seed bodies
        }
        try {
            if (model.startsWith("sample:")) {
                replay(exchange, call, Files.readAllLines(SAMPLES.resolve(model.substring(7) + ".jsonl")), "\r\n");
            } else if (model.startsWith("fixture:")) {
                replay(exchange, call, Files.readAllLines(FIXTURES.resolve(model.substring(8) + ".jsonl")), "\n");
            } else if (model.startsWith("fail:")) {
                int status = Integer.parseInt(model.substring(5));
                byte[] error = ("{\"error\":{\"message\":\"fake failure " + status + "\",\"type\":\"test\"}}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                if (status == 429) {
                    exchange.getResponseHeaders().add("Retry-After", "7");
                }
                exchange.sendResponseHeaders(status, error.length);
                exchange.getResponseBody().write(error);
                exchange.close();
                call.finished.complete(null);
            } else if (model.startsWith("paced:")) {
                String[] parts = model.split(":");
                paced(exchange, call, Integer.parseInt(parts[1]), Long.parseLong(parts[2]),
                        parts.length > 3 ? parts[3] : "stop");
            } else if (model.startsWith("reason:")) {
                String[] parts = model.split(":");
                reason(exchange, call, Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
            } else if (model.startsWith("say:")) {
                int colon = model.indexOf(':', 4);
                say(exchange, call, Long.parseLong(model.substring(4, colon)), model.substring(colon + 1));
            } else if (model.startsWith("big:")) {
                String[] parts = model.split(":");
                big(exchange, call, Integer.parseInt(parts[1]), parts.length > 2 ? Integer.parseInt(parts[2]) : 4096,
                        parts.length > 3 ? Long.parseLong(parts[3]) : 0);
            } else if (model.equals("flood")) {
                fast(exchange, call);
            } else {
                misbehave(exchange, call, model);
            }
        } catch (IOException e) {
            call.closedByClient.complete(System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }

    private void replay(HttpExchange exchange, Call call, List<String> lines, String eol) throws IOException {
        OutputStream out = start(exchange);
        for (String line : lines) {
            if (!line.isBlank()) {
                out.write(("data: " + line + eol + eol).getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        }
        out.write(("data: [DONE]" + eol + eol).getBytes(StandardCharsets.UTF_8));
        out.flush();
        call.finished.complete(null);
    }

    private void misbehave(HttpExchange exchange, Call call, String model) throws IOException, InterruptedException {
        OutputStream out = start(exchange);
        switch (model) {
            case "hang" -> {
                out.write(chunk("Before the silence").getBytes(StandardCharsets.UTF_8));
                out.flush();
                // no byte at all, past the gateway's idle timeout (3 s in the tests); then find out it left
                Thread.sleep(5000);
                probeUntilClosed(out);
            }
            case "cut" -> {
                out.write((chunk("Half an ") + chunk("answer")).getBytes(StandardCharsets.UTF_8));
                out.flush();
                // ends the body without a finish reason or [DONE]
            }
            case "malformed" -> {
                out.write((chunk("Fine so far.") + "data: {\"choices\":[{\"delta\":{\"content\":\"oops\"\n\n")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                probeUntilClosed(out);
            }
            case "slow" -> {
                for (int i = 0; i < 600; i++) {
                    out.write(chunk("w" + i + " ").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    Thread.sleep(25);
                }
            }
            default -> throw new IllegalArgumentException("unknown scenario " + model);
        }
        call.finished.complete(null);
    }

    /** {@code paced:N:MS[:FINISH]}: N chunks {@code "w<i> "}, one every MS ms, then a finish reason and [DONE]. */
    private void paced(HttpExchange exchange, Call call, int chunks, long millis, String finishReason)
            throws IOException, InterruptedException {
        List<String> pieces = new java.util.ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            pieces.add("w" + i + " ");
        }
        pieces(exchange, call, pieces, millis, finishReason);
    }

    /**
     * {@code reason:N:MS}: N reasoning chunks {@code "r<i> "}, then N content chunks {@code "w<i> "}, one every MS
     * ms, then a finish reason and [DONE].
     */
    private void reason(HttpExchange exchange, Call call, int chunks, long millis)
            throws IOException, InterruptedException {
        OutputStream out = start(exchange);
        for (int i = 0; i < chunks; i++) {
            out.write(reasoningChunk("r" + i + " ").getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(millis);
        }
        List<String> pieces = new java.util.ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            pieces.add("w" + i + " ");
        }
        for (int i = 0; i < pieces.size(); i++) {
            out.write(chunk(pieces.get(i)).getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(millis);
        }
        out.write((finish("stop") + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        call.finished.complete(null);
    }

    /** {@code say:MS:TEXT}: the URL-encoded TEXT in chunks cut at each {@code |}, one every MS ms. */
    private void say(HttpExchange exchange, Call call, long millis, String encoded)
            throws IOException, InterruptedException {
        List<String> pieces = java.util.Arrays.stream(encoded.split("\\|", -1))
                .map(p -> java.net.URLDecoder.decode(p, StandardCharsets.UTF_8)).toList();
        pieces(exchange, call, pieces, millis, "stop");
    }

    /** The text of a {@code say:MS:TEXT} stream. */
    static String sayText(String encoded) {
        return java.util.Arrays.stream(encoded.split("\\|", -1))
                .map(p -> java.net.URLDecoder.decode(p, StandardCharsets.UTF_8))
                .collect(java.util.stream.Collectors.joining());
    }

    private void pieces(HttpExchange exchange, Call call, List<String> pieces, long millis, String finishReason)
            throws IOException, InterruptedException {
        OutputStream out = start(exchange);
        for (int i = 0; i < pieces.size(); i++) {
            out.write(chunk(pieces.get(i)).getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (i < pieces.size() - 1) {
                Thread.sleep(millis);
            }
        }
        out.write((finish(finishReason) + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        call.finished.complete(null);
    }

    /** The text of a {@code paced:N:MS} stream. */
    static String pacedText(int chunks) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < chunks; i++) {
            text.append('w').append(i).append(' ');
        }
        return text.toString();
    }

    /**
     * Chunks of reasoning, then of content, of the {@code flood} scenario: 10 MB each. A client that stops
     * reading makes the server's writes block only once the kernel buffers (about 3 MB on loopback) and
     * Payara's own write queue (about 10 MB, measured) are full.
     */
    static final int FAST_CHUNKS = 10_000;
    /** Small content chunks that end the {@code fast} scenario, one every 200 ms. */
    static final int FAST_TAIL = 75;

    /** Chunk {@code i} of the {@code flood} scenario's reasoning ({@code 'r'}) or content ({@code 'c'}): 1024 chars. */
    static String fastPiece(char kind, int i) {
        return kind + String.format("%04d", i) + "x".repeat(1018) + " ";
    }

    /** The reasoning of the {@code fast} stream. */
    static String fastReasoning() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < FAST_CHUNKS; i++) {
            text.append(fastPiece('r', i));
        }
        return text.toString();
    }

    /** The content of the {@code fast} stream. */
    static String fastContent() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < FAST_CHUNKS; i++) {
            text.append(fastPiece('c', i));
        }
        for (int i = 0; i < FAST_TAIL; i++) {
            text.append('t').append(i).append(' ');
        }
        return text.toString();
    }

    /**
     * {@code fast}: a 1 s pause (no byte: time for followers to attach), then 20 MB as fast as it can (10 MB of
     * reasoning, 10 MB of content: more than the kernel buffers and the server's write queue of a connection that
     * stops reading), then a slow
     * tail of 75 small chunks over 15 s (the stream is still running well after a stalled reader is dropped), a
     * finish reason and [DONE].
     */
    private void fast(HttpExchange exchange, Call call) throws IOException, InterruptedException {
        OutputStream out = start(exchange);
        Thread.sleep(1000);
        for (int i = 0; i < FAST_CHUNKS; i++) {
            out.write(reasoningChunk(fastPiece('r', i)).getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < FAST_CHUNKS; i++) {
            out.write(chunk(fastPiece('c', i)).getBytes(StandardCharsets.UTF_8));
        }
        out.flush();
        for (int i = 0; i < FAST_TAIL; i++) {
            Thread.sleep(200);
            out.write(chunk("t" + i + " ").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        out.write((finish("stop") + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        call.finished.complete(null);
    }

    /**
     * The text of {@code big:N}: N characters (ASCII) of Markdown paragraphs, each about 100 characters and
     * numbered, separated by blank lines; the same for the same N.
     */
    static String bigText(int length) {
        StringBuilder b = new StringBuilder(length + 128);
        for (int i = 0; b.length() < length; i++) {
            b.append("Paragraph ").append(i).append(": the quick brown fox jumps over the lazy dog, *again*, ")
                    .append(i * 7919 % 10007).append(" times.\n\n");
        }
        b.setLength(length);
        return b.toString();
    }

    /** {@code big:N:CHUNK:MS}: {@link #bigText}(N) in chunks of CHUNK characters, MS ms apart, then stop and [DONE]. */
    private void big(HttpExchange exchange, Call call, int length, int chunkChars, long millis)
            throws IOException, InterruptedException {
        String text = bigText(length);
        OutputStream out = new java.io.BufferedOutputStream(start(exchange), 64 * 1024);
        for (int at = 0; at < text.length(); at += chunkChars) {
            out.write(chunk(text.substring(at, Math.min(text.length(), at + chunkChars))).getBytes(StandardCharsets.UTF_8));
            if (millis > 0) {
                out.flush();
                Thread.sleep(millis);
            }
        }
        out.write((finish("stop") + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        call.finished.complete(null);
    }

    static String reasoningChunk(String reasoning) {
        return "data: " + Json.createObjectBuilder()
                .add("object", "chat.completion.chunk")
                .add("choices", Json.createArrayBuilder().add(Json.createObjectBuilder()
                        .add("index", 0)
                        .add("delta", Json.createObjectBuilder().add("reasoning_content", reasoning))
                        .addNull("finish_reason")))
                .build() + "\n\n";
    }

    /** Writes SSE comments every 100 ms for up to 10 s: a write fails (IOException) once the client closed. */
    private static void probeUntilClosed(OutputStream out) throws IOException, InterruptedException {
        for (int i = 0; i < 100; i++) {
            out.write(": are you there?\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            Thread.sleep(100);
        }
    }

    private static OutputStream start(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    static String chunk(String content) {
        return "data: " + Json.createObjectBuilder()
                .add("object", "chat.completion.chunk")
                .add("choices", Json.createArrayBuilder().add(Json.createObjectBuilder()
                        .add("index", 0)
                        .add("delta", Json.createObjectBuilder().add("content", content))
                        .addNull("finish_reason")))
                .build() + "\n\n";
    }

    /** The last chunk of a stream: an empty delta with a finish reason. */
    static String finish(String reason) {
        return "data: " + Json.createObjectBuilder()
                .add("object", "chat.completion.chunk")
                .add("choices", Json.createArrayBuilder().add(Json.createObjectBuilder()
                        .add("index", 0)
                        .add("delta", Json.createObjectBuilder())
                        .add("finish_reason", reason)))
                .build() + "\n\n";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
