package io.sluice.platform.tomcat;

import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.EntityTransaction;
import jakarta.persistence.Persistence;
import jakarta.persistence.TransactionRequiredException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The persistence unit {@code sluice} on Tomcat: one resource-local EclipseLink {@code EntityManagerFactory} on the
 * pooled data source ({@link DataSources#pool()}), built at the first use, and one {@code EntityManager} per
 * transaction, kept on the calling thread. A transaction started while another runs on the same thread
 * ({@code REQUIRES_NEW}) stacks on it, and the outer one goes on when it ends.
 */
final class Jpa {

    private static final ThreadLocal<Deque<EntityManager>> TRANSACTIONS = ThreadLocal.withInitial(ArrayDeque::new);
    private static volatile EntityManagerFactory factory;

    private Jpa() {
    }

    /** Whether the calling thread runs in a transaction. */
    static boolean inTransaction() {
        return !TRANSACTIONS.get().isEmpty();
    }

    /**
     * Runs {@code work} in a new transaction with an {@code EntityManager} of its own: committed when {@code work}
     * returns, rolled back when it throws.
     *
     * @throws Exception what {@code work} threw, or the commit's {@code RollbackException}
     */
    static Object inNewTransaction(Callable<Object> work) throws Exception {
        EntityManager em = factory().createEntityManager();
        Deque<EntityManager> stack = TRANSACTIONS.get();
        EntityTransaction tx = em.getTransaction();
        tx.begin();
        stack.push(em);
        try {
            Object result = work.call();
            tx.commit();
            return result;
        } catch (Throwable t) {
            if (tx.isActive()) {
                try {
                    tx.rollback();
                } catch (RuntimeException rollback) {
                    t.addSuppressed(rollback);
                }
            }
            throw t;
        } finally {
            stack.pop();
            em.close();
        }
    }

    /**
     * What a {@code @PersistenceContext} field holds on Tomcat: an {@code EntityManager} that stands for the current
     * transaction's, as a container's transaction-scoped persistence context does.
     *
     * @throws TransactionRequiredException (from each call) when the thread runs in no transaction
     */
    static EntityManager proxy() {
        return (EntityManager) Proxy.newProxyInstance(Jpa.class.getClassLoader(), new Class<?>[] {EntityManager.class},
                (self, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return switch (method.getName()) {
                            case "equals" -> self == args[0];
                            case "hashCode" -> System.identityHashCode(self);
                            default -> "EntityManager of the current transaction (Tomcat)";
                        };
                    }
                    EntityManager current = TRANSACTIONS.get().peek();
                    if (current == null) {
                        throw new TransactionRequiredException("no transaction on this thread for EntityManager."
                                + method.getName());
                    }
                    try {
                        return method.invoke(current, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static EntityManagerFactory factory() {
        EntityManagerFactory f = factory;
        if (f == null) {
            synchronized (Jpa.class) {
                f = factory;
                if (f == null) {
                    f = Persistence.createEntityManagerFactory("sluice", Map.of(
                            "jakarta.persistence.transactionType", "RESOURCE_LOCAL",
                            "jakarta.persistence.jtaDataSource", "",
                            "jakarta.persistence.nonJtaDataSource", DataSources.pool(),
                            "eclipselink.weaving", "false",
                            "eclipselink.target-server", "None"));
                    factory = f;
                }
            }
        }
        return f;
    }

    /** Closes the factory, when there is one; at undeploy. */
    static void close() {
        EntityManagerFactory f = factory;
        factory = null;
        if (f != null && f.isOpen()) {
            f.close();
        }
    }
}
