package io.sluice.problems.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.ProblemException;
import jakarta.ws.rs.core.Response;

/**
 * Builds RFC 9457 problem responses: {@code application/problem+json} with {@code type}, {@code title},
 * {@code status}, {@code detail} (API.md section 7).
 */
public final class Problems {

    /** Media type of every error body. */
    public static final String PROBLEM_JSON = "application/problem+json";
    /** Base of the {@code type} URIs; documented in the README. */
    public static final String TYPE_BASE = "urn:sluice:problem:";

    private Problems() {
    }

    /** A problem response; {@code detail} must be client-safe. */
    public static Response response(int status, String type, String detail, Long retryAfterSeconds) {
        String body = JSON.createObjectBuilder()
                .add("type", TYPE_BASE + type)
                .add("title", ProblemException.title(status))
                .add("status", status)
                .add("detail", detail)
                .build().toString();
        Response.ResponseBuilder builder = Response.status(status).type(PROBLEM_JSON).entity(body);
        if (retryAfterSeconds != null) {
            builder.header("Retry-After", retryAfterSeconds);
        }
        return builder.build();
    }
}
