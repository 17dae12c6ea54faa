package io.sluice.platform.tomcat;

import jakarta.interceptor.InterceptorBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Interceptor binding of {@link TransactionInterceptor}; {@link TomcatPlatform} adds it to every {@code @Stateless}
 * class, whose methods run in a transaction on a Jakarta EE server.
 */
@InterceptorBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface TomcatTransactional {

    /** The annotation instance that {@link TomcatPlatform} adds. */
    final class Literal extends jakarta.enterprise.util.AnnotationLiteral<TomcatTransactional>
            implements TomcatTransactional {
        static final Literal INSTANCE = new Literal();
        private static final long serialVersionUID = 1L;
    }
}
