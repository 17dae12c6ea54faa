package io.sluice.streams.control;

import jakarta.ejb.Stateless;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import java.util.function.Supplier;

/**
 * Runs work in a transaction of its own: the stores' methods it calls join it (their default attribute is
 * {@code REQUIRED}), so several writes commit together, once. Used for a chat turn's start (the user message and the
 * stream record) and for the {@link GroupCommit} batches.
 */
@Stateless
public class Transactions {

    /**
     * Runs {@code work} in a new transaction, committed when it returns.
     *
     * @return what {@code work} returned
     * @throws RuntimeException what {@code work} threw (an application exception as it is, others wrapped by the
     *                          container); the transaction is then rolled back
     */
    @TransactionAttribute(TransactionAttributeType.REQUIRES_NEW)
    public <T> T inNew(Supplier<T> work) {
        return work.get();
    }
}
