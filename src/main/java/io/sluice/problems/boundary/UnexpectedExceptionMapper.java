package io.sluice.problems.boundary;

import io.sluice.platform.control.DatabaseFaults;
import io.sluice.platform.control.Ids;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Last resort: any other exception is logged with a correlation id and answered 500 as
 * {@code application/problem+json} whose detail names only that id, never the exception's message. A database that
 * cannot be reached, or whose pool has no free connection ({@link DatabaseFaults}), is not a bug: it is answered 503
 * {@code database-unavailable} with {@code Retry-After} (issue 11, rule 5), and logged as a warning without a stack
 * trace.
 */
@Provider
public class UnexpectedExceptionMapper implements ExceptionMapper<Exception> {

    private static final Logger LOG = Logger.getLogger(UnexpectedExceptionMapper.class.getName());

    @Override
    public Response toResponse(Exception e) {
        if (DatabaseFaults.unavailable(e)) {
            LOG.warning(() -> "the database is unavailable: " + e);
            return Problems.response(503, "database-unavailable",
                    "the database cannot be reached or has no free connection; nothing was changed, try again shortly",
                    DatabaseFaults.RETRY_AFTER_SECONDS);
        }
        String incident = Ids.newId();
        LOG.log(Level.SEVERE, "unexpected failure, incident " + incident, e);
        return Problems.response(500, "internal-error", "unexpected server error, incident " + incident, null);
    }
}
