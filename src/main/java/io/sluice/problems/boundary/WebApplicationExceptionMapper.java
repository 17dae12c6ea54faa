package io.sluice.problems.boundary;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Answers the runtime's own client errors (unknown path 404, wrong method 405, unsupported media type 415,
 * not acceptable 406, ...) as {@code application/problem+json}. The detail is a fixed sentence per status:
 * the exception's message may carry internals and is never echoed.
 */
@Provider
public class WebApplicationExceptionMapper implements ExceptionMapper<WebApplicationException> {

    @Override
    public Response toResponse(WebApplicationException e) {
        int status = e.getResponse() != null ? e.getResponse().getStatus() : 500;
        String detail = switch (status) {
            case 400 -> "the request is malformed";
            case 404 -> "no such resource";
            case 405 -> "this method is not allowed on this resource";
            case 406 -> "no acceptable representation for the Accept header";
            case 415 -> "unsupported media type: send Content-Type: application/json";
            default -> status >= 500 ? "the server failed to handle the request" : "the request was refused";
        };
        String type = switch (status) {
            case 415 -> "unsupported-media-type";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            default -> status >= 500 ? "internal-error" : "invalid-request";
        };
        return Problems.response(status, type, detail, null);
    }
}
