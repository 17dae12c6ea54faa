package io.sluice.openai.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamStatus;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

/**
 * An error in OpenAI's shape (API.md section 8): {@code {"error":{"message","type","param","code"}}}, with the HTTP
 * status it is answered with when nothing was sent yet. The official SDKs turn the status into their exception types
 * (400 {@code BadRequestException}, 401 {@code UnauthorizedException}, 404 {@code NotFoundException}, 429
 * {@code RateLimitException}, 5xx {@code InternalServerException}) and an error object inside an event stream into
 * {@code SseException} (openai-java) or {@code APIError} (openai-python).
 *
 * <p>{@code retry} is sent as {@code X-Should-Retry}, which the SDKs obey before their own rule (they retry 408, 409,
 * 429 and 5xx): a generation that ran into a limit or was stopped is not worth repeating at once.
 *
 * @param status            the HTTP status
 * @param type              OpenAI's error type: {@code invalid_request_error}, {@code rate_limit_error},
 *                          {@code server_error}, {@code upstream_error}, {@code stream_stopped}
 * @param code              a stable token: Sluice's upper-case failure codes for generations ({@code UPSTREAM_ERROR},
 *                          {@code STREAM_TIMEOUT}, ...), {@code stopped} for a stopped stream, and the problem type in
 *                          snake case for refused requests ({@code model_not_found}, {@code too_many_streams}, ...)
 * @param message           a client-safe sentence
 * @param retryAfterSeconds sent as {@code Retry-After}, or {@code null}
 * @param retry             {@code X-Should-Retry}, or {@code null} to leave it to the client
 */
public record OpenAiError(int status, String type, String code, String message, Long retryAfterSeconds,
                          Boolean retry) {

    /** The error object: {@code {"error":{"message","type","param":null,"code"}}}. */
    public JsonObject json() {
        JsonObjectBuilder error = JSON.createObjectBuilder().add("message", message).add("type", type).addNull("param");
        if (code == null) {
            error.addNull("code");
        } else {
            error.add("code", code);
        }
        return JSON.createObjectBuilder().add("error", error).build();
    }

    /** A refused request (API.md section 7's statuses, in OpenAI's shape). */
    public static OpenAiError of(ProblemException problem) {
        int status = problem.status();
        String type = status == 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
        String code = problem.type().equals("unknown-model") ? "model_not_found" : problem.type().replace('-', '_');
        return new OpenAiError(status, type, code, problem.getMessage(), problem.retryAfterSeconds(), null);
    }

    /** 500 with an incident id, for a failure inside Sluice (logged; its message is never sent). */
    public static OpenAiError internal(String incident) {
        return new OpenAiError(500, "server_error", "internal_error", "unexpected server error, incident "
                + incident, null, null);
    }

    /**
     * How a stream that did not complete is told (it completed: {@code null}).
     *
     * <ul>
     *   <li>{@code RATE_LIMITED}: 429 with the upstream's {@code Retry-After};</li>
     *   <li>{@code UPSTREAM_ERROR} of an upstream 400 or 422 (a bad sampling value, a context too long): 400;</li>
     *   <li>{@code UPSTREAM_TIMEOUT}: 504; {@code STREAM_TIMEOUT}: 504, not retried;</li>
     *   <li>{@code GENERATION_TOO_LONG}: 502, not retried; other upstream failures: 502;
     *       {@code PERSISTENCE_FAILED} (the answer could not be saved): 503, not retried; {@code NODE_LOST} (issue 10):
     *       503, retried after 2 s; {@code INTERNAL_ERROR}:
     *       500;</li>
     *   <li>stopped (API.md section 3: a stop, an abort, abandonment): 409 {@code stopped}, not retried; by a server
     *       shutdown: 503, which may be retried on another node.</li>
     * </ul>
     */
    public static OpenAiError of(Stream.End end) {
        if (end.status() == StreamStatus.COMPLETED) {
            return null;
        }
        if (end.status() == StreamStatus.STOPPED) {
            if (end.endedBy(Reason.SERVER_SHUTDOWN)) {
                return new OpenAiError(503, "server_error", "stopped", "the server is shutting down", 5L, null);
            }
            return new OpenAiError(409, "stream_stopped", "stopped", "the generation was stopped ("
                    + end.reason() + ")", null, false);
        }
        UpstreamException f = end.failure();
        return switch (f.code()) {
            case RATE_LIMITED -> new OpenAiError(429, "rate_limit_error", f.code().name(), f.getMessage(),
                    f.retryAfterSeconds(), null);
            case UPSTREAM_ERROR -> f.upstreamStatus() == 400 || f.upstreamStatus() == 422
                    ? new OpenAiError(400, "invalid_request_error", f.code().name(), f.getMessage(), null, null)
                    : new OpenAiError(502, "upstream_error", f.code().name(), f.getMessage(), null, null);
            case UPSTREAM_TIMEOUT -> new OpenAiError(504, "upstream_error", f.code().name(), f.getMessage(), null,
                    null);
            case STREAM_TIMEOUT -> new OpenAiError(504, "server_error", f.code().name(), f.getMessage(), null,
                    false);
            case GENERATION_TOO_LONG -> new OpenAiError(502, "server_error", f.code().name(), f.getMessage(), null,
                    false);
            case UPSTREAM_AUTH, UPSTREAM_PROTOCOL, UPSTREAM_UNAVAILABLE -> new OpenAiError(502, "upstream_error",
                    f.code().name(), f.getMessage(), null, null);
            case PERSISTENCE_FAILED -> new OpenAiError(503, "server_error", f.code().name(), f.getMessage(), null,
                    false);
            case NODE_LOST -> new OpenAiError(503, "server_error", f.code().name(), f.getMessage(), 2L, null);
            case INTERNAL_ERROR -> new OpenAiError(500, "server_error", f.code().name(), f.getMessage(), null, null);
        };
    }
}
