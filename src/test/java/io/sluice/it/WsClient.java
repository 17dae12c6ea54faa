package io.sluice.it;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A test client of {@code /ws/agents}: the JDK's WebSocket client (which answers pings with pongs by itself), every
 * text message parsed as a JSON frame and queued in arrival order.
 */
final class WsClient implements WebSocket.Listener, AutoCloseable {

    final WebSocket socket;
    final List<JsonObject> received = new ArrayList<>();
    final CompletableFuture<Integer> closedWith = new CompletableFuture<>();
    private final BlockingQueue<JsonObject> queue = new LinkedBlockingQueue<>();
    private final StringBuilder partial = new StringBuilder();

    private WsClient(HttpClient http, URI uri, String cookie) throws Exception {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (cookie != null) {
            builder.header("Cookie", cookie);
        }
        socket = builder.buildAsync(uri, this).get(10, TimeUnit.SECONDS);
    }

    /** Opens a session to {@code ws://.../ws/agents?clientId=...} with the user's cookie header (or none). */
    static WsClient open(HttpClient http, URI base, String cookie, String clientId) throws Exception {
        URI ws = URI.create("ws://" + base.getHost() + ":" + base.getPort() + base.getPath() + "ws/agents"
                + (clientId == null ? "" : "?clientId=" + clientId));
        return new WsClient(http, ws, cookie);
    }

    void send(String text) {
        socket.sendText(text, true).join();
    }

    void send(JsonObject frame) {
        send(frame.toString());
    }

    /** The next frame, or a failure after {@code seconds}. */
    JsonObject next(int seconds) throws InterruptedException {
        JsonObject frame = queue.poll(seconds, TimeUnit.SECONDS);
        if (frame == null) {
            throw new AssertionError("no frame within " + seconds + " s; received so far: " + received.size());
        }
        received.add(frame);
        return frame;
    }

    /** Frames up to and including the first that matches, within {@code seconds} in all. */
    List<JsonObject> until(Predicate<JsonObject> last, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<JsonObject> frames = new ArrayList<>();
        while (true) {
            long left = deadline - System.nanoTime();
            JsonObject frame = queue.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (frame == null) {
                throw new AssertionError("no matching frame within " + seconds + " s; got " + frames);
            }
            received.add(frame);
            frames.add(frame);
            if (last.test(frame)) {
                return frames;
            }
        }
    }

    /** Whether no frame arrives within {@code millis}. */
    boolean quietFor(long millis) throws InterruptedException {
        JsonObject frame = queue.poll(millis, TimeUnit.MILLISECONDS);
        if (frame != null) {
            received.add(frame);
            return false;
        }
        return true;
    }

    static Predicate<JsonObject> type(String type) {
        return f -> type.equals(f.getString("type"));
    }

    /** Drops the connection without a closing handshake, like a network cut. */
    void cut() {
        socket.abort();
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        socket.abort();
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            queue.add(Json.createReader(new StringReader(partial.toString())).readObject());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closedWith.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closedWith.completeExceptionally(error);
    }
}
