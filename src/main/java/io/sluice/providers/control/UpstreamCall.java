package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.StringReader;
import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One streamed {@code POST /chat/completions} exchange, as a reactive body subscriber of the JDK HTTP
 * client: bytes are pushed to it as they arrive, so no thread waits for the upstream. It parses them as an
 * event stream (WHATWG HTML rules, {@link EventStreamParser}), each event's data as a
 * {@code chat.completion.chunk} ({@link ChatChunks}), and tells its {@link GenerationListener}. The listener's
 * {@link RawCapture}, if it keeps one, gets each event's data as received, the status and the {@code [DONE]}.
 *
 * <p>Failures map to the API.md codes: 401/403 {@code UPSTREAM_AUTH}, 429 {@code RATE_LIMITED} (keeping
 * {@code Retry-After}), other non-2xx {@code UPSTREAM_ERROR}, no byte within the timeout
 * {@code UPSTREAM_TIMEOUT}, a refused connection {@code UPSTREAM_UNAVAILABLE}, bytes that are not chunks
 * {@code UPSTREAM_PROTOCOL}, a stream that ends before a finish reason or {@code [DONE]}
 * {@code UPSTREAM_ERROR}.
 *
 * <p>Backpressure: one buffer list is requested at a time, and the next only after the previous one was
 * handled. {@link #cancel()} cancels the subscription, which makes the client close the connection.
 */
final class UpstreamCall implements Generation, HttpResponse.BodyHandler<Void>, HttpResponse.BodySubscriber<Void> {

    /** Longest line accepted from the upstream, in bytes (a chunk is one line). */
    static final int MAX_LINE_BYTES = 1 << 20;
    /** Longest event data accepted, in UTF-16 code units. */
    static final int MAX_DATA_CHARS = 1 << 20;
    /** How much of an error body is read to find the upstream's message, in bytes. */
    static final int MAX_ERROR_BODY = 16 * 1024;

    private final GenerationListener listener;
    private final ScheduledExecutorService scheduler;
    private final long timeoutNanos;
    private final CompletableFuture<Void> body = new CompletableFuture<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final EventStreamParser parser;
    /** The listener's raw record of the response, or {@code null}; filled only by the serialized callbacks. */
    private final RawCapture raw;

    private volatile Flow.Subscription subscription;
    private volatile Future<?> exchange;
    private volatile Future<?> idleTimer;
    private volatile long lastByteNanos = System.nanoTime();

    // state of the response, touched only by the subscriber's serialized callbacks
    private int status;
    private String retryAfter;
    private byte[] errorBody;
    private int errorLength;
    private String finishReason;
    private JsonObject usage;
    private String model;

    UpstreamCall(GenerationListener listener, ScheduledExecutorService scheduler, long timeoutMillis) {
        this.listener = listener;
        this.scheduler = scheduler;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.parser = new EventStreamParser((id, type, data) -> onEvent(data), MAX_LINE_BYTES, MAX_DATA_CHARS);
        this.raw = listener.rawCapture();
        if (raw != null) {
            raw.sent(System.nanoTime()); // made just before the request is sent (OpenAiProvider.stream)
        }
    }

    /** Arms the idle timer and remembers the exchange, so that cancel works before headers arrive too. */
    void started(CompletableFuture<HttpResponse<Void>> response) {
        this.exchange = response;
        armIdleTimer(timeoutNanos);
        response.whenComplete((r, error) -> {
            if (error != null) {
                fail(mapException(error));
            }
        });
        if (ended.get()) {
            response.cancel(true);
        }
    }

    // --- BodyHandler: called once the status line and headers arrived

    @Override
    public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo info) {
        status = info.statusCode();
        lastByteNanos = System.nanoTime();
        if (raw != null) {
            raw.status(status);
        }
        if (status < 200 || status > 299) {
            retryAfter = info.headers().firstValue("Retry-After").orElse(null);
            errorBody = new byte[MAX_ERROR_BODY];
        } else {
            // a proxy's or portal's HTML page answered with 200 is not an event stream (issue 11, rule 6)
            String type = info.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
            if (type.startsWith("text/html") || type.startsWith("application/xhtml")) {
                fail(new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, "the upstream answered " + status
                        + " with " + type.split(";")[0] + ", not an event stream"));
            }
        }
        return this;
    }

    // --- BodySubscriber

    @Override
    public CompletionStage<Void> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (ended.get()) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        lastByteNanos = System.nanoTime();
        if (ended.get()) {
            return;
        }
        try {
            for (ByteBuffer buffer : buffers) {
                if (errorBody != null) {
                    collectError(buffer);
                } else {
                    parser.feed(buffer);
                }
                if (ended.get()) {
                    return;
                }
            }
        } catch (UpstreamException e) {
            fail(e);
            return;
        } catch (RuntimeException e) {
            fail(new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, "upstream sent an unreadable stream"));
            return;
        }
        Flow.Subscription s = subscription; // null once released
        if (s != null) {
            s.request(1);
        }
    }

    @Override
    public void onError(Throwable error) {
        body.complete(null);
        fail(mapException(error));
    }

    @Override
    public void onComplete() {
        body.complete(null);
        if (errorBody != null) {
            fail(statusFailure());
            return;
        }
        parser.end();
        if (finishReason != null) {
            complete();
        } else {
            fail(new UpstreamException(FailureCode.UPSTREAM_ERROR,
                    "the upstream closed the stream before it finished"));
        }
    }

    // --- Generation

    @Override
    public void cancel() {
        if (ended.compareAndSet(false, true)) {
            release();
        }
    }

    // --- inside

    private void onEvent(String data) {
        if (ended.get()) {
            return;
        }
        if ("[DONE]".equals(data.strip())) {
            if (raw != null) {
                raw.done(lastByteNanos);
            }
            if (ended.compareAndSet(false, true)) {
                listener.onComplete(finishReason, usage, model);
                release();
            }
            return;
        }
        ChatChunk chunk;
        try {
            chunk = ChatChunks.parse(data);
        } catch (UpstreamException notAChunk) {
            if (raw != null) {
                raw.chunk(data, false, lastByteNanos); // kept as a JSON string, for whoever debugs the failure
            }
            throw notAChunk;
        }
        if (raw != null) {
            raw.chunk(data, true, lastByteNanos); // as received; arrival: when its bytes came (onNext)
        }
        if (chunk.error() != null) {
            throw new UpstreamException(FailureCode.UPSTREAM_ERROR, "the upstream reported an error: "
                    + shorten(chunk.error()));
        }
        if (chunk.model() != null) {
            model = chunk.model();
        }
        if (chunk.usage() != null) {
            usage = chunk.usage();
        }
        if (chunk.finishReason() != null) {
            finishReason = chunk.finishReason();
        }
        if (chunk.content() != null || chunk.reasoning() != null) {
            listener.onDelta(chunk.content(), chunk.reasoning());
        }
    }

    private void complete() {
        if (ended.compareAndSet(false, true)) {
            listener.onComplete(finishReason, usage, model);
            release();
        }
    }

    private void fail(UpstreamException failure) {
        if (ended.compareAndSet(false, true)) {
            release();
            listener.onFailure(failure);
        }
    }

    /**
     * Closes the connection (cancelling the subscription closes it) and stops the timer; then drops the references to
     * the exchange, so that whoever still holds this call holds no buffer of the HTTP client.
     */
    private void release() {
        Future<?> timer = idleTimer;
        if (timer != null) {
            timer.cancel(false);
        }
        Flow.Subscription s = subscription;
        Future<?> e = exchange;
        if (s != null) {
            s.cancel();
        } else if (e != null) {
            e.cancel(true);
        }
        body.complete(null);
        idleTimer = null;
        subscription = null;
        exchange = null;
    }

    private void armIdleTimer(long delayNanos) {
        idleTimer = scheduler.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (ended.get()) {
            return;
        }
        long silent = System.nanoTime() - lastByteNanos;
        if (silent >= timeoutNanos) {
            fail(new UpstreamException(FailureCode.UPSTREAM_TIMEOUT, "the upstream sent nothing for "
                    + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s"));
        } else {
            armIdleTimer(timeoutNanos - silent);
        }
    }

    private void collectError(ByteBuffer buffer) {
        int n = Math.min(buffer.remaining(), errorBody.length - errorLength);
        buffer.get(errorBody, errorLength, n);
        errorLength += n;
        buffer.position(buffer.limit());
    }

    private UpstreamException statusFailure() {
        String upstreamMessage = errorMessage(new String(errorBody, 0, errorLength, StandardCharsets.UTF_8));
        String suffix = upstreamMessage == null ? "" : ": " + upstreamMessage;
        if (status == 401 || status == 403) {
            return new UpstreamException(FailureCode.UPSTREAM_AUTH,
                    "the upstream refused the credentials (HTTP " + status + ")" + suffix, status, null);
        }
        if (status == 429) {
            return new UpstreamException(FailureCode.RATE_LIMITED, "the upstream is rate limiting (HTTP 429)" + suffix,
                    status, retryAfterSeconds(retryAfter));
        }
        if (status >= 500) {
            return new UpstreamException(FailureCode.UPSTREAM_ERROR, "the upstream failed (HTTP " + status + ")" + suffix,
                    status, retryAfterSeconds(retryAfter));
        }
        return new UpstreamException(FailureCode.UPSTREAM_ERROR,
                "the upstream rejected the request (HTTP " + status + ")" + suffix, status, null);
    }

    /** The {@code error.message} (or {@code error} string, or {@code message}) of a JSON error body, shortened. */
    static String errorMessage(String text) {
        try (var reader = JSON.createReader(new StringReader(text))) {
            JsonValue value = reader.readValue();
            if (value instanceof JsonObject object) {
                JsonValue error = object.get("error");
                if (error instanceof JsonObject e && e.get("message") instanceof JsonString m) {
                    return shorten(m.getString());
                }
                if (error instanceof JsonString s) {
                    return shorten(s.getString());
                }
                if (object.get("message") instanceof JsonString m) {
                    return shorten(m.getString());
                }
            }
        } catch (RuntimeException notJson) {
            // an HTML or plain-text error page: its text is not shown
        }
        return null;
    }

    /** {@code Retry-After} as seconds: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3); else null. */
    static Long retryAfterSeconds(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.strip();
        try {
            return Math.max(0, Long.parseLong(v));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, ZonedDateTime.now(at.getZone()).until(at, ChronoUnit.SECONDS));
            } catch (RuntimeException notDate) {
                return null;
            }
        }
    }

    static UpstreamException mapException(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof UpstreamException u) {
            return u;
        }
        if (cause instanceof HttpConnectTimeoutException || cause instanceof HttpTimeoutException) {
            return new UpstreamException(FailureCode.UPSTREAM_TIMEOUT, "the upstream did not answer in time");
        }
        if (cause instanceof ConnectException) {
            return new UpstreamException(FailureCode.UPSTREAM_UNAVAILABLE, "the upstream could not be reached");
        }
        if (cause instanceof IOException) {
            return new UpstreamException(FailureCode.UPSTREAM_ERROR, "the upstream connection failed mid-stream");
        }
        return new UpstreamException(FailureCode.INTERNAL_ERROR, "the upstream call failed");
    }

    private static String shorten(String text) {
        String t = text.strip();
        return t.length() <= 300 ? t : t.substring(0, 300) + "…";
    }
}
