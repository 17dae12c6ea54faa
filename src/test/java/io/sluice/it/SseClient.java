package io.sluice.it;

import io.sluice.providers.control.EventStreamParser;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A minimal SSE client for the tests, on the JDK HTTP client: POSTs JSON, parses the response as an event
 * stream, and can cut its connection for real ({@link #disconnect()} cancels the body subscription, which
 * closes the socket).
 */
final class SseClient implements HttpResponse.BodySubscriber<Void> {

    /** One received event; {@code data} is parsed as JSON. */
    record Event(String id, String name, JsonObject data) {
    }

    final int status;
    final HttpHeaders headers;
    final String errorBody;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> body = new CompletableFuture<>();
    /** How many events (pings included) arrived so far, whether or not they were taken. */
    final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
    /** When each event (pings included) arrived, {@link System#nanoTime()}, in order. */
    final java.util.concurrent.ConcurrentLinkedQueue<Long> arrivals = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final EventStreamParser parser = new EventStreamParser((id, type, data) -> {
        arrivals.add(System.nanoTime());
        events.add(new Event(id, type, Json.createReader(new StringReader(data)).readObject()));
        received.incrementAndGet();
    }, 1 << 20, 1 << 22);
    private volatile Flow.Subscription subscription;

    private SseClient(HttpResponse<?> response, String errorBody) {
        this.status = response.statusCode();
        this.headers = response.headers();
        this.errorBody = errorBody;
    }

    /** POSTs {@code json} to {@code uri} and returns once the response headers arrived. */
    static SseClient post(HttpClient http, URI uri, String json) throws Exception {
        return open(http, HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build());
    }

    /** GETs {@code uri} as an event stream with extra {@code headers}; returns once the response headers arrived. */
    static SseClient get(HttpClient http, URI uri, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30))
                .GET();
        headers.forEach(b::header);
        return open(http, b.build());
    }

    /** POSTs {@code json} to {@code uri} with extra {@code headers}; returns once the response headers arrived. */
    static SseClient post(HttpClient http, URI uri, String json, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json));
        headers.forEach(b::header);
        return open(http, b.build());
    }

    /** Sends {@code request} as it is (its own headers and body) and returns once the response headers arrived. */
    static SseClient open(HttpClient http, HttpRequest request) throws Exception {
        CompletableFuture<SseClient> client = new CompletableFuture<>();
        http.sendAsync(request, info -> {
            if (info.statusCode() != 200) {
                return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8),
                        text -> {
                            client.complete(new SseClient(new Info(info), text));
                            return null;
                        });
            }
            SseClient c = new SseClient(new Info(info), null);
            client.complete(c);
            return c;
        }).exceptionally(e -> {
            client.completeExceptionally(e);
            return null;
        });
        return client.get(30, TimeUnit.SECONDS);
    }

    /** The next {@code n} events other than {@code ping}, each waited for up to {@code seconds}. */
    List<Event> take(int n, int seconds) throws InterruptedException {
        List<Event> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            taken.add(next(seconds));
        }
        return taken;
    }

    /** Reads the next {@code n} events other than {@code ping}, then cuts the connection. */
    List<Event> takeThenDisconnect(int n, int seconds) throws InterruptedException {
        try {
            return take(n, seconds);
        } finally {
            disconnect();
        }
    }

    /** Whether the response ended (normally or not) within {@code seconds}. */
    boolean awaitEnd(int seconds) throws InterruptedException {
        try {
            body.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    /** The next event other than {@code ping}, waiting up to {@code seconds}; fails when none comes. */
    Event next(int seconds) throws InterruptedException {
        while (true) {
            Event e = events.poll(seconds, TimeUnit.SECONDS);
            if (e == null) {
                throw new AssertionError("no SSE event within " + seconds + " s");
            }
            if (!"ping".equals(e.name())) {
                return e;
            }
        }
    }

    /** Every event up to and including the first terminal one ({@code done}, {@code stopped}, {@code error}). */
    List<Event> untilTerminal(int seconds) throws InterruptedException {
        List<Event> all = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            long left = deadline - System.nanoTime();
            Event e = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (e == null) {
                throw new AssertionError("no terminal event within " + seconds + " s; got " + all.size() + " events");
            }
            all.add(e);
            if (e.name().equals("done") || e.name().equals("stopped") || e.name().equals("error")) {
                return all;
            }
        }
    }

    /** The longest time between two events received so far (pings included), in ms; 0 for fewer than two. */
    long longestGapMillis() {
        long longest = 0;
        Long previous = null;
        for (Long at : arrivals) {
            if (previous != null) {
                longest = Math.max(longest, at - previous);
            }
            previous = at;
        }
        return TimeUnit.NANOSECONDS.toMillis(longest);
    }

    /** Every event received so far without waiting, pings included. */
    List<Event> drained() {
        List<Event> all = new ArrayList<>();
        events.drainTo(all);
        return all;
    }

    /** Completes when the server ended the response. */
    CompletableFuture<Void> ended() {
        return body;
    }

    /** Cuts the connection (the socket is closed, as when a browser tab goes away). */
    void disconnect() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    @Override
    public CompletionStage<Void> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    /*
     * One buffer list at a time, as the gateway's own upstream client does: with unbounded demand, cancelling
     * the subscription did not always close the JDK 17 client's HTTP/1.1 connection, and a test that "left"
     * kept the socket open.
     */
    @Override
    public void onNext(List<ByteBuffer> items) {
        items.forEach(parser::feed);
        subscription.request(1);
    }

    @Override
    public void onError(Throwable throwable) {
        body.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
        parser.end();
        body.complete(null);
    }

    /** Adapts ResponseInfo to the constructor. */
    private record Info(HttpResponse.ResponseInfo info) implements HttpResponse<Void> {
        public int statusCode() { return info.statusCode(); }
        public HttpRequest request() { return null; }
        public java.util.Optional<HttpResponse<Void>> previousResponse() { return java.util.Optional.empty(); }
        public HttpHeaders headers() { return info.headers(); }
        public Void body() { return null; }
        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
        public URI uri() { return null; }
        public HttpClient.Version version() { return info.version(); }
    }

    static JsonObject json(String text) {
        return Json.createReader(new StringReader(text)).readObject();
    }

    /** The concatenated {@code delta}s of the {@code message} events. */
    /** The events of a whole {@code text/event-stream} body, pings included, in order; each {@code data} is JSON. */
    static List<Event> parse(String body) {
        List<Event> events = new ArrayList<>();
        EventStreamParser parser = new EventStreamParser((id, type, data) ->
                events.add(new Event(id, type, Json.createReader(new StringReader(data)).readObject())), 1 << 20, 1 << 22);
        parser.feed(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
        parser.end();
        return events;
    }

    /** The events other than {@code ping} (heartbeats), in order, as a list that may be added to. */
    static List<Event> withoutPings(List<Event> events) {
        return events.stream().filter(e -> !"ping".equals(e.name()))
                .collect(Collectors.toCollection(ArrayList::new));
    }

    static String deltas(List<Event> events) {
        StringBuilder text = new StringBuilder();
        events.stream().filter(e -> e.name().equals("message")).forEach(e -> text.append(e.data().getString("delta", "")));
        return text.toString();
    }

    /** The concatenated {@code reasoning}s of the {@code message} events. */
    static String reasonings(List<Event> events) {
        StringBuilder text = new StringBuilder();
        events.stream().filter(e -> e.name().equals("message"))
                .forEach(e -> text.append(e.data().getString("reasoning", "")));
        return text.toString();
    }

    /** The last event of a list. */
    static Event last(List<Event> events) {
        return events.get(events.size() - 1);
    }
}
