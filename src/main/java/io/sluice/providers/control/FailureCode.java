package io.sluice.providers.control;

/**
 * The stable, upper-case error codes a generation can end with (API.md section 2, {@code error} event).
 * Clients switch on these tokens; never rename one.
 */
public enum FailureCode {
    /** The upstream answered 401 or 403: a missing or wrong API key. */
    UPSTREAM_AUTH,
    /** The upstream answered 429; {@link UpstreamException#retryAfterSeconds()} keeps its Retry-After. */
    RATE_LIMITED,
    /** The upstream answered another non-2xx status, sent an error object, or cut the stream short. */
    UPSTREAM_ERROR,
    /** No connection, or no byte from the upstream, within the configured timeout. */
    UPSTREAM_TIMEOUT,
    /** The upstream's bytes are not a valid event stream of {@code chat.completion.chunk} objects. */
    UPSTREAM_PROTOCOL,
    /** The upstream could not be reached at all (refused, DNS, TLS). */
    UPSTREAM_UNAVAILABLE,
    /** The answer outgrew the per-stream limit (SLUICE_STREAM_MAX_CHARS); the text so far is kept. */
    GENERATION_TOO_LONG,
    /**
     * The generation ran longer than {@code SLUICE_STREAM_MAX_SECONDS}: the upstream request was cancelled and the text
     * so far saved as {@code partial}.
     */
    STREAM_TIMEOUT,
    /**
     * The answer could not be saved within {@code SLUICE_SAVE_RETRY_SECONDS} (the database is unreachable): its text
     * stays readable at {@code GET /api/streams/{id}} while the stream is retained, and the node saves it when the
     * database is back.
     */
    PERSISTENCE_FAILED,
    /**
     * The stream cannot be followed to its end from the node serving the connection (issue 10): its generating node
     * stopped answering, or the cluster's Redis lost its events. The text so far is kept.
     */
    NODE_LOST,
    /** A failure inside Sluice itself; details are logged, never sent to the client. */
    INTERNAL_ERROR
}
