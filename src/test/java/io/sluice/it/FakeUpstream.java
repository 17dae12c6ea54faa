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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A fake OpenAI-compatible upstream for the black-box tests: the JDK's HttpServer on a fixed port that the
 * deployed WAR is configured with ({@code SLUICE_UPSTREAM_URL}). The request's {@code model} picks the
 * scenario: {@code sample:NAME} and {@code fixture:NAME} replay a recorded stream, {@code fail:STATUS}
 * answers an error, {@code hang}, {@code cut}, {@code malformed} and {@code slow} misbehave. Each request is
 * recorded under the value of its last user message, so that tests running one after another can find
 * their own.
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
    }

    static final Path SAMPLES = Path.of("src/test/resources/upstream-samples");
    static final Path FIXTURES = Path.of(System.getProperty("sluice.fixtures", "../shared/fixtures/upstream"));

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, CompletableFuture<Call>> calls = new ConcurrentHashMap<>();

    FakeUpstream(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(executor);
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    /** The request whose last user message was {@code marker}, once it arrives. */
    CompletableFuture<Call> call(String marker) {
        return calls.computeIfAbsent(marker, k -> new CompletableFuture<>());
    }

    private void handle(HttpExchange exchange) throws IOException {
        JsonObject body;
        try (var reader = Json.createReader(new StringReader(
                new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)))) {
            body = reader.readObject();
        }
        var messages = body.getJsonArray("messages");
        String marker = messages.getJsonObject(messages.size() - 1).getString("content");
        Call call = new Call(body, exchange.getRequestHeaders().getFirst("Authorization"));
        call(marker).complete(call);
        String model = body.getString("model", "");
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

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
