package io.sluice.platform.control;

import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.IdentityHashMap;
import java.util.Map;
import javax.transaction.xa.XAException;

/**
 * Tells a database that cannot be reached from a failed request (issue 11, rule 5): such a request is answered
 * 503 with {@code Retry-After} ({@code database-unavailable}), not 500. The rule walks the cause chain (and each
 * {@link SQLException}'s next exceptions) looking for a connection failure: SQLState class {@code 08} (SQL standard
 * "connection exception"), {@code 57P01}..{@code 57P03} (PostgreSQL shutting down or not yet accepting connections),
 * H2's {@code 90067} (connection broken), the JDBC connection and timeout exception types, a socket error, or a
 * transaction branch the database failed ({@link XAException} {@code XAER_RMFAIL} or {@code XAER_RMERR}: the database
 * is Sluice's one transactional resource), or a container pool that could not hand out a connection: a Jakarta
 * Connectors {@code jakarta.resource.ResourceException} (Payara's {@code ResourceAllocationException} "In-use
 * connections equal max-pool-size and expired max-wait-time" when every connection stays busy past the pool's 5 s
 * wait, as at 5,000 streams starting within 10 s on PostgreSQL; WildFly's IronJacamar "IJ000655: No managed
 * connections available"). Such a request changed nothing (its transaction rolled back) and may be tried again: it is
 * a 503, not a bug. The Connectors type is compared by name, as Tomcat has no Jakarta Connectors API.
 */
public final class DatabaseFaults {

    /** How long a client is asked to wait before it tries again: 5 s. */
    public static final long RETRY_AFTER_SECONDS = 5;

    private DatabaseFaults() {
    }

    /** Whether {@code failure} (any wrapper: EJB, JPA, JTA, the pool) comes from an unreachable database. */
    public static boolean unavailable(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        return unavailable(failure, seen);
    }

    private static boolean unavailable(Throwable t, Map<Throwable, Boolean> seen) {
        for (; t != null && seen.size() < 64 && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLRecoverableException || t instanceof SQLTimeoutException
                    || t instanceof SocketException || t instanceof SocketTimeoutException) {
                return true;
            }
            // the transaction manager could not commit or roll back on the database's connection: Payara reports a
            // pooled connection that broke inside the transaction as XAER_RMERR, without the SQL exception as cause
            if (t instanceof XAException xa
                    && (xa.errorCode == XAException.XAER_RMFAIL || xa.errorCode == XAException.XAER_RMERR)) {
                return true;
            }
            if (isConnectorsResourceException(t.getClass())) {
                return true;
            }
            if (t instanceof SQLException sql) {
                String state = sql.getSQLState();
                if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                        || state.equals("57P03") || state.equals("90067"))) {
                    return true;
                }
                SQLException next = sql.getNextException();
                if (next != null && next != sql && unavailable(next, seen)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether {@code type} is or extends {@code jakarta.resource.ResourceException} (Jakarta Connectors). */
    private static boolean isConnectorsResourceException(Class<?> type) {
        for (Class<?> c = type; c != null && c != Exception.class; c = c.getSuperclass()) {
            if (c.getName().equals("jakarta.resource.ResourceException")) {
                return true;
            }
        }
        return false;
    }
}
