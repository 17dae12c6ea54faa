package io.sluice.warmup.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.identity.control.Owners;
import io.sluice.platform.control.Ids;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The warm-up's requests (issue 22): {@code lanes} clients, each a dedicated owner of its own, that drive the node's
 * public HTTP API over loopback the way browsers and SDKs do, one request at a time per lane, until {@code budget}
 * streams have been made or {@link #stop()} is called. Each lane cycles through: new chat turns (the most), a second
 * turn of a conversation, a stream cut after its first delta and resumed by {@code Last-Event-ID} and by offset
 * (API.md section 3), a stream created with {@code POST /api/streams} and followed by polling, a streamed
 * {@code /v1/chat/completions} call (section 8; left out when API keys are required there), and reading the
 * conversations. Conversations get their generated titles as usual.
 *
 * <p>Every request carries {@link Warmup#HEADER} with the run's token and the lane's {@code sluice_uid} cookie, so
 * that its owner is {@code warmup:UUID} ({@link Owners#forWarmup}), and names the warm-up's model, which only the
 * warm-up's upstream answers. No thread is held per lane: each step is a chain of the HTTP client's futures.
 */
final class WarmupTraffic {

    /** Answer shapes: chunk counts and pauses on both sides of the 50 ms coalescing window, some with reasoning. */
    static final WarmupUpstream.Shape QUICK = new WarmupUpstream.Shape(12, 15, 0);
    static final WarmupUpstream.Shape REASONING = new WarmupUpstream.Shape(10, 15, 3);
    static final WarmupUpstream.Shape SPARSE = new WarmupUpstream.Shape(5, 60, 0);
    static final WarmupUpstream.Shape LONG = new WarmupUpstream.Shape(16, 25, 0);

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** A lane gives up after this many failed steps in a row (the node does not answer). */
    private static final int MAX_FAILURES_IN_A_ROW = 5;

    private final HttpClient http;
    private final URI base;
    private final String token;
    private final String model;
    private final boolean v1;
    private final AtomicInteger budget;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<String> owners = new ArrayList<>();
    private final AtomicLong streams = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();

    /**
     * @param http   the client (HTTP/1.1, the executor of its callbacks)
     * @param base   the node's root, e.g. {@code http://127.0.0.1:8080/}
     * @param token  the run's token ({@link Warmup#HEADER})
     * @param model  the warm-up's model name
     * @param v1     whether to call {@code /v1} too (no API key is required there)
     * @param budget streams to make, over every lane
     */
    WarmupTraffic(HttpClient http, URI base, String token, String model, boolean v1, int budget) {
        this.http = http;
        this.base = base;
        this.token = token;
        this.model = model;
        this.v1 = v1;
        this.budget = new AtomicInteger(budget);
    }

    /** Streams that ended with their terminal event ({@code done}, or {@code [DONE]} at {@code /v1}). */
    long streams() {
        return streams.get();
    }

    /** Steps that failed. */
    long failures() {
        return failures.get();
    }

    /** The first failure seen, as {@code kind: reason}, or {@code null}. */
    String firstFailure() {
        return firstFailure.get();
    }

    /** The owner keys of the lanes made so far ({@code warmup:UUID}). */
    synchronized List<String> owners() {
        return owners.stream().map(Owners::forWarmup).toList();
    }

    private synchronized List<String> cookieIds() {
        return List.copyOf(owners);
    }

    /** Lanes end after their current step. */
    void stop() {
        stopped.set(true);
    }

    /**
     * Waits until the node answers {@code GET /api/info} with 200, polling every 100 ms for at most {@code limit}
     * (a container may open its port before the application is deployed).
     *
     * @return completes exceptionally when the node never answered
     */
    CompletableFuture<Void> awaitApplication(Duration limit, ScheduledExecutorService delays) {
        long deadline = System.nanoTime() + limit.toNanos();
        CompletableFuture<Void> done = new CompletableFuture<>();
        pollInfo(deadline, delays, done);
        return done;
    }

    private void pollInfo(long deadline, ScheduledExecutorService delays, CompletableFuture<Void> done) {
        http.sendAsync(get("api/info", Ids.newId()), HttpResponse.BodyHandlers.discarding())
                .whenComplete((r, e) -> {
                    if (e == null && r.statusCode() == 200) {
                        done.complete(null);
                    } else if (System.nanoTime() > deadline || stopped.get()) {
                        done.completeExceptionally(new IllegalStateException("the node did not answer GET /api/info at "
                                + base + ": " + (e != null ? e : "HTTP " + r.statusCode())));
                    } else {
                        delays.schedule(() -> pollInfo(deadline, delays, done), 100, TimeUnit.MILLISECONDS);
                    }
                });
    }

    /** Runs {@code lanes} lanes; completes when every lane has ended. */
    CompletableFuture<Void> run(int lanes) {
        CompletableFuture<?>[] all = new CompletableFuture<?>[lanes];
        for (int i = 0; i < lanes; i++) {
            Lane lane = new Lane(i);
            synchronized (this) {
                owners.add(lane.cookieId);
            }
            all[i] = lane.next(0, 0);
        }
        return CompletableFuture.allOf(all);
    }

    /**
     * Completes once no stream of any lane runs ({@code GET /api/streams?status=active} is empty for each owner: the
     * titles that followed the chats have ended too), polling every 100 ms for at most {@code limit}.
     */
    CompletableFuture<Boolean> drain(Duration limit, ScheduledExecutorService delays) {
        long deadline = System.nanoTime() + limit.toNanos();
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        pollActive(cookieIds(), deadline, delays, done);
        return done;
    }

    private void pollActive(List<String> left, long deadline, ScheduledExecutorService delays, CompletableFuture<Boolean> done) {
        if (left.isEmpty()) {
            done.complete(true);
            return;
        }
        http.sendAsync(get("api/streams?status=active", left.get(0)), HttpResponse.BodyHandlers.ofString())
                .whenComplete((r, e) -> {
                    boolean idle = e == null && r.statusCode() == 200 && r.body().strip().equals("[]");
                    if (System.nanoTime() > deadline) {
                        done.complete(false);
                    } else if (idle) {
                        pollActive(left.subList(1, left.size()), deadline, delays, done);
                    } else {
                        delays.schedule(() -> pollActive(left, deadline, delays, done), 100, TimeUnit.MILLISECONDS);
                    }
                });
    }

    /** One client: an owner, a tab id, the conversation it talks in. */
    private final class Lane {
        final int index;
        final String cookieId = Ids.newId();
        final String clientId = "warmup-" + Ids.newId();
        String conversationId;

        Lane(int index) {
            this.index = index;
        }

        /** Runs step {@code i}, then the next, until the budget is spent, the run stopped, or the node fails. */
        CompletableFuture<Void> next(int i, int failuresInARow) {
            if (stopped.get() || failuresInARow >= MAX_FAILURES_IN_A_ROW) {
                return CompletableFuture.completedFuture(null);
            }
            int kind = (index + i) % 20;
            boolean makesStream = kind != 19;
            if (makesStream && budget.getAndDecrement() <= 0) {
                return CompletableFuture.completedFuture(null);
            }
            String name = kindName(kind);
            CompletableFuture<Void> step;
            try {
                step = step(kind, i);
            } catch (RuntimeException e) {
                step = CompletableFuture.failedFuture(e);
            }
            return step.handle((ok, error) -> {
                if (error == null) {
                    if (makesStream) {
                        streams.incrementAndGet();
                    }
                    return 0;
                }
                failures.incrementAndGet();
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                firstFailure.compareAndSet(null, name + ": " + cause);
                return failuresInARow + 1;
            }).thenCompose(failed -> next(i + 1, failed));
        }

        private CompletableFuture<Void> step(int kind, int i) {
            return switch (kind) {
                case 12, 13 -> chat(conversationId, QUICK, i); // a second turn, once the lane has a conversation
                case 14 -> cutAndResume(false, i);
                case 15 -> cutAndResume(true, i);
                case 16 -> poll(i);
                case 17 -> v1 ? completion(i) : chat(null, REASONING, i);
                case 18 -> chat(null, SPARSE, i);
                case 19 -> read();
                default -> chat(null, i % 4 == 0 ? REASONING : QUICK, i);
            };
        }

        private String kindName(int kind) {
            return switch (kind) {
                case 12, 13 -> "second turn";
                case 14 -> "resume by Last-Event-ID";
                case 15 -> "resume by offset";
                case 16 -> "polling";
                case 17 -> v1 ? "/v1 completion" : "chat";
                case 19 -> "conversations";
                default -> "chat";
            };
        }

        private String message(int i, WarmupUpstream.Shape shape) {
            return "warm-up " + index + "." + i + " " + shape.marker();
        }

        /** A chat turn ({@code POST /api/chat/stream}), read to its end; keeps the conversation for a second turn. */
        CompletableFuture<Void> chat(String conversation, WarmupUpstream.Shape shape, int i) {
            var body = JSON.createObjectBuilder().add("message", message(i, shape)).add("model", model);
            if (conversation != null) {
                body.add("conversationId", conversation);
            }
            return http.sendAsync(post("api/chat/stream", body.build().toString()),
                    HttpResponse.BodyHandlers.ofString()).thenAccept(r -> {
                        Events events = Events.of(expect(r, 200));
                        events.requireDone();
                        conversationId = events.conversationId;
                    });
        }

        /**
         * A chat turn whose connection is cut after its first delta, then resumed, by {@code Last-Event-ID} on
         * {@code GET /api/streams/{id}/events} or by offset on {@code POST /api/chat/resume}, to its end.
         */
        CompletableFuture<Void> cutAndResume(boolean byOffset, int i) {
            String body = JSON.createObjectBuilder().add("message", message(i, LONG)).add("model", model).build()
                    .toString();
            CutAfterFirstDelta cut = new CutAfterFirstDelta();
            http.sendAsync(postBuilder("api/chat/stream", body).header("X-Sluice-Client-Id", clientId).build(),
                    info -> {
                        cut.status = info.statusCode();
                        return HttpResponse.BodySubscribers.fromSubscriber(cut);
                    }).whenComplete((r, e) -> {
                        if (e != null) {
                            cut.result.completeExceptionally(e);
                        }
                    });
            return cut.result.thenCompose(text -> {
                if (cut.status != 200) {
                    throw new IllegalStateException("HTTP " + cut.status);
                }
                Events first = Events.of(text);
                if (first.streamId == null) {
                    throw new IllegalStateException("no stream event before the cut");
                }
                if (first.done) {
                    return CompletableFuture.completedFuture(null); // it ended before the cut: nothing to resume
                }
                HttpRequest.Builder resume;
                if (byOffset) {
                    resume = postBuilder("api/chat/resume", JSON.createObjectBuilder().add("streamId", first.streamId)
                            .add("offset", first.chars).build().toString());
                } else {
                    resume = request("api/streams/" + first.streamId + "/events", cookieId).GET()
                            .header("Last-Event-ID", Long.toString(first.lastId));
                }
                return http.sendAsync(resume.header("X-Sluice-Client-Id", clientId).build(),
                        HttpResponse.BodyHandlers.ofString())
                        .thenAccept(r -> Events.of(expect(r, 200)).requireDone());
            });
        }

        /** {@code POST /api/streams}, then {@code GET /api/streams/{id}?after=N&wait=5} until the stream has ended. */
        CompletableFuture<Void> poll(int i) {
            String body = JSON.createObjectBuilder().add("type", "chat").add("message", message(i, QUICK))
                    .add("model", model).build().toString();
            return http.sendAsync(post("api/streams", body), HttpResponse.BodyHandlers.ofString())
                    .thenCompose(r -> {
                        String id = json(expect(r, 201)).getString("streamId");
                        return pollUntilEnded(id, 0, 0);
                    });
        }

        private CompletableFuture<Void> pollUntilEnded(String id, long after, int round) {
            if (round >= 20) {
                return CompletableFuture.failedFuture(new IllegalStateException("still running after 20 polls"));
            }
            return http.sendAsync(get("api/streams/" + id + "?after=" + after + "&wait=5", cookieId),
                    HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
                        JsonObject state = json(expect(r, 200));
                        long last = state.getJsonNumber("lastEventId").longValue();
                        if (!"running".equals(state.getString("status"))) {
                            return CompletableFuture.completedFuture(null);
                        }
                        return pollUntilEnded(id, last, round + 1);
                    });
        }

        /** A streamed {@code POST /v1/chat/completions}, read to {@code [DONE]}. */
        CompletableFuture<Void> completion(int i) {
            String body = JSON.createObjectBuilder().add("model", model).add("stream", true)
                    .add("messages", JSON.createArrayBuilder().add(JSON.createObjectBuilder().add("role", "user")
                            .add("content", message(i, QUICK)))).build().toString();
            return http.sendAsync(post("v1/chat/completions", body), HttpResponse.BodyHandlers.ofString())
                    .thenAccept(r -> {
                        if (!expect(r, 200).contains("data: [DONE]")) {
                            throw new IllegalStateException("no [DONE]");
                        }
                    });
        }

        /** {@code GET /api/conversations}, and the messages of the lane's conversation. */
        CompletableFuture<Void> read() {
            CompletableFuture<HttpResponse<String>> list = http.sendAsync(get("api/conversations", cookieId),
                    HttpResponse.BodyHandlers.ofString());
            if (conversationId == null) {
                return list.thenAccept(r -> expect(r, 200));
            }
            return list.thenCompose(r -> {
                expect(r, 200);
                return http.sendAsync(get("api/conversations/" + conversationId + "/messages", cookieId),
                        HttpResponse.BodyHandlers.ofString());
            }).thenAccept(r -> expect(r, 200));
        }

        private HttpRequest.Builder postBuilder(String path, String json) {
            return request(path, cookieId).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json));
        }

        private HttpRequest post(String path, String json) {
            return postBuilder(path, json).build();
        }
    }

    private HttpRequest get(String path, String cookieId) {
        return request(path, cookieId).GET().build();
    }

    /** A request of the owner whose {@code sluice_uid} is {@code cookieId}, with the run's token. */
    private HttpRequest.Builder request(String path, String cookieId) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header(Warmup.HEADER, token)
                .header("Cookie", Owners.COOKIE + "=" + cookieId);
    }

    private static String expect(HttpResponse<String> r, int status) {
        if (r.statusCode() != status) {
            String body = r.body() == null ? "" : r.body();
            throw new IllegalStateException("HTTP " + r.statusCode() + " " + body.substring(0, Math.min(200,
                    body.length())));
        }
        return r.body();
    }

    private static JsonObject json(String text) {
        try (JsonReader reader = JSON.createReader(new StringReader(text))) {
            return reader.readObject();
        }
    }

    /**
     * What an SSE body held (API.md section 2): the {@code stream} event's ids, the last event id, the characters of
     * the deltas (UTF-16 code units), and whether {@code done} came.
     */
    static final class Events {
        String streamId;
        String conversationId;
        long lastId;
        int chars;
        boolean done;
        String error;

        static Events of(String text) {
            Events e = new Events();
            for (String block : text.replace("\r\n", "\n").split("\n\n")) {
                String event = "message";
                StringBuilder data = new StringBuilder();
                String id = null;
                for (String line : block.split("\n")) {
                    if (line.startsWith("event:")) {
                        event = line.substring(6).strip();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5).strip());
                    } else if (line.startsWith("id:")) {
                        id = line.substring(3).strip();
                    }
                }
                if (data.length() == 0) {
                    continue;
                }
                if (id != null && !id.isEmpty()) {
                    e.lastId = Long.parseLong(id);
                }
                JsonObject json = json(data.toString());
                switch (event) {
                    case "stream" -> {
                        e.streamId = json.getString("streamId", null);
                        e.conversationId = json.getString("conversationId", null);
                    }
                    case "message" -> e.chars += json.getString("delta", "").length();
                    case "done" -> e.done = true;
                    case "error", "stopped" -> e.error = event + " " + data;
                    default -> {
                        // ping
                    }
                }
            }
            return e;
        }

        void requireDone() {
            if (!done) {
                throw new IllegalStateException(error != null ? error : "no done event");
            }
        }
    }

    /**
     * Reads an SSE response until its first {@code message} event has arrived, then cancels it (which closes the
     * connection, as a dropped network does); {@link #result} completes with the text read. A body that ends first
     * completes it with all of it.
     */
    private static final class CutAfterFirstDelta implements Flow.Subscriber<List<ByteBuffer>> {
        final CompletableFuture<String> result = new CompletableFuture<>();
        final StringBuilder text = new StringBuilder();
        volatile int status;
        private Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                text.append(StandardCharsets.UTF_8.decode(b));
            }
            int message = Math.max(text.indexOf("event: message"), text.indexOf("event:message"));
            if (message >= 0 && text.indexOf("\n\n", message) >= 0) {
                subscription.cancel();
                result.complete(text.substring(0, text.indexOf("\n\n", message) + 2));
                return;
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(text.toString());
        }
    }
}
