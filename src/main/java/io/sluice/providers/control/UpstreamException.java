package io.sluice.providers.control;

/**
 * Why a generation failed, as the {@code error} event reports it (API.md sections 2 and 7).
 *
 * <p>{@link #getMessage()} is a short human-readable summary that is safe to show to the client: it never
 * contains credentials or stack traces.
 */
public class UpstreamException extends RuntimeException {

    private final FailureCode code;
    private final int upstreamStatus;
    private final Long retryAfterSeconds;

    /**
     * @param code              the stable code
     * @param message           client-safe summary
     * @param upstreamStatus    the upstream's HTTP status, or 0 where there was none
     * @param retryAfterSeconds the upstream's {@code Retry-After} in seconds, or {@code null}
     */
    public UpstreamException(FailureCode code, String message, int upstreamStatus, Long retryAfterSeconds) {
        super(message);
        this.code = code;
        this.upstreamStatus = upstreamStatus;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** A failure without an upstream HTTP status. */
    public UpstreamException(FailureCode code, String message) {
        this(code, message, 0, null);
    }

    public FailureCode code() {
        return code;
    }

    /** The upstream's HTTP status, or 0 where the failure had none (timeout, protocol, cut). */
    public int upstreamStatus() {
        return upstreamStatus;
    }

    /** The upstream's {@code Retry-After} in seconds, or {@code null} where it sent none. */
    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
