package io.sluice.platform.control;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTransientConnectionException;
import javax.transaction.xa.XAException;
import org.junit.jupiter.api.Test;

class DatabaseFaultsTest {

    @Test
    void connectionFailuresAreFoundThroughWrappers() {
        // the PostgreSQL driver's refusal, wrapped as the pool and the EJB container wrap it
        SQLException refused = new SQLException("Connection to 127.0.0.1:5432 refused", "08001",
                new ConnectException("Connection refused"));
        Exception pool = new RuntimeException("Error in allocating a connection", new IllegalStateException(refused));
        assertTrue(DatabaseFaults.unavailable(new RuntimeException("EJB", pool)));
        assertTrue(DatabaseFaults.unavailable(new RuntimeException(new SQLTransientConnectionException("timeout"))));
        assertTrue(DatabaseFaults.unavailable(new SQLException("the database system is starting up", "57P03")));
        SQLException batch = new SQLException("batch failed", "XX000");
        batch.setNextException(new SQLException("I/O error", "08006"));
        assertTrue(DatabaseFaults.unavailable(batch));
        assertTrue(DatabaseFaults.unavailable(new RuntimeException(new ConnectException("refused"))));
        // Payara, a pooled connection that broke inside the transaction: SystemException <- XAException(XAER_RMERR)
        XAException rmerr = new XAException("ResourceException: the physical connection is not usable");
        rmerr.errorCode = XAException.XAER_RMERR;
        assertTrue(DatabaseFaults.unavailable(new RuntimeException("commit", rmerr)));
        // Payara, every pooled connection busy past the pool's wait (5,000 streams starting at once on PostgreSQL):
        // EJBException <- RollbackException <- PersistenceException <- SQLException (no SQLState) <-
        // ResourceAllocationException <- PoolingException
        SQLException exhausted = new SQLException("Error in allocating a connection. Cause: In-use connections equal"
                + " max-pool-size and expired max-wait-time. Cannot allocate more connections.",
                new jakarta.resource.spi.ResourceAllocationException("In-use connections equal max-pool-size"));
        assertTrue(DatabaseFaults.unavailable(new RuntimeException("Transaction aborted",
                new RuntimeException("Transaction marked for rollback", exhausted))));
        assertTrue(DatabaseFaults.unavailable(new SQLException("IJ000453: Unable to get managed connection",
                new jakarta.resource.ResourceException("IJ000655: No managed connections available"))));
    }

    @Test
    void otherFailuresAreNot() {
        assertFalse(DatabaseFaults.unavailable(new IllegalStateException("bug")));
        assertFalse(DatabaseFaults.unavailable(new RuntimeException(
                new SQLIntegrityConstraintViolationException("duplicate key", "23505"))));
        assertFalse(DatabaseFaults.unavailable(new SQLException("syntax", "42601")));
        XAException protocol = new XAException("out of order");
        protocol.errorCode = XAException.XAER_PROTO;
        assertFalse(DatabaseFaults.unavailable(new RuntimeException(protocol)), "a transaction manager's own error");
        RuntimeException loop = new RuntimeException("a");
        RuntimeException other = new RuntimeException("b", loop);
        loop.initCause(other);
        assertFalse(DatabaseFaults.unavailable(loop), "a cause cycle ends");
    }
}
