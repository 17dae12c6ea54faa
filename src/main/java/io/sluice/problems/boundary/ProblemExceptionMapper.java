package io.sluice.problems.boundary;

import io.sluice.platform.control.ProblemException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** Answers a {@link ProblemException} as {@code application/problem+json} with its own status and detail. */
@Provider
public class ProblemExceptionMapper implements ExceptionMapper<ProblemException> {

    @Override
    public Response toResponse(ProblemException e) {
        return Problems.response(e.status(), e.type(), e.getMessage(), e.retryAfterSeconds());
    }
}
