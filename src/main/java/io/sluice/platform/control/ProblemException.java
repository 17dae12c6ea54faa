package io.sluice.platform.control;

import jakarta.ejb.ApplicationException;
import jakarta.ws.rs.core.Response;

/**
 * A client error to answer as {@code application/problem+json} (RFC 9457, API.md section 7). Thrown before
 * anything is written, so the request changes nothing. {@link #getMessage()} is the problem's
 * {@code detail} and is shown to the client: keep it free of internals. Thrown from an EJB it rolls the
 * transaction back and reaches the caller unwrapped. It lives in {@code platform}, the lowest component, so that every
 * component may throw it; {@code io.sluice.problems.boundary.ProblemExceptionMapper} renders it.
 */
@ApplicationException(rollback = true)
public class ProblemException extends RuntimeException {

    private final int status;
    private final String type;
    private final Long retryAfterSeconds;

    /**
     * @param status HTTP status (4xx)
     * @param type   short slug appended to the problem type URI, e.g. {@code invalid-request}
     * @param detail client-safe explanation
     */
    public ProblemException(int status, String type, String detail) {
        this(status, type, detail, null);
    }

    public ProblemException(int status, String type, String detail, Long retryAfterSeconds) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** 400 {@code invalid-request}. */
    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, "invalid-request", detail);
    }

    /** 404 {@code not-found}: unknown ids and ids that belong to someone else alike. */
    public static ProblemException notFound(String what) {
        return new ProblemException(404, "not-found", what + " not found");
    }

    /** 413 {@code payload-too-large}. */
    public static ProblemException tooLarge(int limitBytes) {
        return new ProblemException(413, "payload-too-large",
                "the request body exceeds the limit of " + limitBytes + " bytes");
    }

    /** The reason phrase of a status, for the problem's title. */
    public static String title(int status) {
        Response.Status known = Response.Status.fromStatusCode(status);
        return known != null ? known.getReasonPhrase() : "HTTP " + status;
    }
}
