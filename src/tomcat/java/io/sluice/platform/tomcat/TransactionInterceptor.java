package io.sluice.platform.tomcat;

import jakarta.annotation.Priority;
import jakarta.ejb.TransactionAttribute;
import jakarta.ejb.TransactionAttributeType;
import jakarta.interceptor.AroundInvoke;
import jakarta.interceptor.Interceptor;
import jakarta.interceptor.InvocationContext;
import java.lang.reflect.Method;

/**
 * Container-managed transactions of a stateless bean, as an EJB container runs them (Jakarta Enterprise Beans 4.0,
 * chapter 8), for the two attributes Sluice uses: {@code REQUIRED} (the default: join the current transaction, else
 * run in a new one) and {@code REQUIRES_NEW} (always a new one, the current one suspended meanwhile). A new transaction
 * commits when the method returns and rolls back when it throws anything; the exception is thrown as it is (an EJB
 * container would wrap a system exception in {@code EJBException}; Sluice's mappers read the cause chain either way).
 */
@Interceptor
@TomcatTransactional
@Priority(Interceptor.Priority.PLATFORM_BEFORE + 200)
public class TransactionInterceptor {

    /**
     * Runs the call in the transaction its attribute asks for.
     *
     * @throws Exception what the method threw, or the commit's {@code RollbackException}
     */
    @AroundInvoke
    public Object around(InvocationContext call) throws Exception {
        if (attribute(call.getMethod()) == TransactionAttributeType.REQUIRES_NEW || !Jpa.inTransaction()) {
            return Jpa.inNewTransaction(call::proceed);
        }
        return call.proceed();
    }

    /** The method's attribute, else its class's, else {@code REQUIRED}. */
    static TransactionAttributeType attribute(Method method) {
        TransactionAttribute own = method.getAnnotation(TransactionAttribute.class);
        if (own != null) {
            return own.value();
        }
        TransactionAttribute type = method.getDeclaringClass().getAnnotation(TransactionAttribute.class);
        return type != null ? type.value() : TransactionAttributeType.REQUIRED;
    }
}
