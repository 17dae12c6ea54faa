package io.sluice.problems.boundary;

import io.sluice.platform.control.Ids;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Last resort: any other exception is logged with a correlation id and answered 500 as
 * {@code application/problem+json} whose detail names only that id, never the exception's message.
 */
@Provider
public class UnexpectedExceptionMapper implements ExceptionMapper<Exception> {

    private static final Logger LOG = Logger.getLogger(UnexpectedExceptionMapper.class.getName());

    @Override
    public Response toResponse(Exception e) {
        String incident = Ids.newId();
        LOG.log(Level.SEVERE, "unexpected failure, incident " + incident, e);
        return Problems.response(500, "internal-error", "unexpected server error, incident " + incident, null);
    }
}
