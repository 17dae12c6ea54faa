package io.sluice.platform.tomcat;

import io.sluice.agents.control.AgentStore;
import io.sluice.agents.control.LostRuns;
import io.sluice.conversations.control.ConversationStore;
import io.sluice.platform.control.Database;
import io.sluice.streams.control.ConnectionGuard;
import io.sluice.streams.control.StreamRecords;
import io.sluice.streams.control.Takeovers;
import io.sluice.streams.control.Transactions;
import jakarta.annotation.Resource;
import jakarta.ejb.Singleton;
import jakarta.ejb.Startup;
import jakarta.ejb.Stateless;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.spi.CreationalContext;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterDeploymentValidation;
import jakarta.enterprise.inject.spi.AnnotatedType;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.BeforeBeanDiscovery;
import jakarta.enterprise.inject.spi.BeforeShutdown;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.enterprise.inject.spi.InjectionPoint;
import jakarta.enterprise.inject.spi.InjectionTarget;
import jakarta.enterprise.inject.spi.ProcessAnnotatedType;
import jakarta.enterprise.inject.spi.ProcessInjectionTarget;
import jakarta.persistence.PersistenceContext;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The CDI extension that stands in for the EJB container and resource injection on Tomcat (see the package
 * documentation). Registered in {@code META-INF/services/jakarta.enterprise.inject.spi.Extension} of the Tomcat WAR
 * only.
 *
 * <p>{@link #ENTERPRISE_BEANS} lists every {@code @Stateless} and {@code @Singleton} class of Sluice (a new one must
 * be added here): CDI in "annotated" discovery does not see them without an EJB container, so they are added here,
 * made {@code @ApplicationScoped} (they keep no per-call state), and the stateless
 * ones get {@link TomcatTransactional}. The {@code @Startup} ones are created in this list's order once the
 * application is deployed.
 *
 * <p>A field annotated {@code @PersistenceContext} gets {@link Jpa#proxy()}; a {@code @Resource} field of type
 * {@code DataSource} gets {@link DataSources#pool()}, one of type {@code ManagedThreadFactory} a {@link TomcatThreads}.
 * A {@code @Resource} field of another type fails the deployment: nothing would set it. So does
 * {@code SLUICE_OIDC_ISSUER}: OpenID Connect login needs Jakarta Security, which Tomcat lacks.
 */
public class TomcatPlatform implements Extension {

    /** Sluice's enterprise beans; the {@code @Startup} ones start in this order. */
    static final List<Class<?>> ENTERPRISE_BEANS = List.of(Database.class, ConnectionGuard.class,
            ConversationStore.class, AgentStore.class, StreamRecords.class, Transactions.class, Takeovers.class,
            LostRuns.class);

    private static final Logger LOG = Logger.getLogger(TomcatPlatform.class.getName());

    private final Set<Class<?>> seen = new HashSet<>();

    void addEnterpriseBeans(@Observes BeforeBeanDiscovery discovery, BeanManager beans) {
        Config config = ConfigProvider.getConfig(TomcatPlatform.class.getClassLoader());
        if (config.getOptionalValue("sluice.oidc.issuer", String.class).filter(v -> !v.isBlank()).isPresent()) {
            // OpenID Connect login is Jakarta Security's, which Tomcat lacks: refuse to run without the login asked for
            throw new IllegalStateException("SLUICE_OIDC_ISSUER is set, but OpenID Connect login needs Jakarta "
                    + "Security, which Tomcat does not have: use Payara or WildFly, or unset it");
        }
        for (Class<?> type : ENTERPRISE_BEANS) {
            discovery.addAnnotatedType(type, TomcatPlatform.class.getName() + "/" + type.getName());
        }
    }

    <T> void adapt(@Observes ProcessAnnotatedType<T> event) {
        AnnotatedType<T> type = event.getAnnotatedType();
        Class<T> javaClass = type.getJavaClass();
        if (type.getFields().stream().anyMatch(f -> f.isAnnotationPresent(Resource.class)
                || f.isAnnotationPresent(PersistenceContext.class))) {
            // Weld would look them up in Tomcat's JNDI, where nothing is bound; injectResources sets them instead
            event.configureAnnotatedType()
                    .filterFields(f -> f.isAnnotationPresent(Resource.class)
                            || f.isAnnotationPresent(PersistenceContext.class))
                    .forEach(f -> f.remove(a -> a.annotationType() == Resource.class
                            || a.annotationType() == PersistenceContext.class));
        }
        boolean stateless = type.isAnnotationPresent(Stateless.class);
        boolean singleton = type.isAnnotationPresent(Singleton.class);
        if (!stateless && !singleton) {
            return;
        }
        synchronized (seen) {
            if (!seen.add(javaClass)) {
                event.veto(); // discovered (ConnectionGuard is @ApplicationScoped too) and added: keep one
                return;
            }
        }
        var configurator = event.configureAnnotatedType();
        if (!type.isAnnotationPresent(ApplicationScoped.class)) {
            configurator.add(ApplicationScoped.Literal.INSTANCE);
        }
        if (stateless) {
            configurator.add(TomcatTransactional.Literal.INSTANCE);
        }
    }

    <T> void injectResources(@Observes ProcessInjectionTarget<T> event) {
        List<Field> fields = new ArrayList<>();
        for (Class<?> c = event.getAnnotatedType().getJavaClass(); c != null && c != Object.class;
             c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (field.isAnnotationPresent(PersistenceContext.class) || field.isAnnotationPresent(Resource.class)) {
                    if (field.isAnnotationPresent(Resource.class) && field.getType() != DataSource.class
                            && field.getType() != ManagedThreadFactory.class) {
                        event.addDefinitionError(new IllegalStateException("Tomcat has no resource of type "
                                + field.getType().getName() + " for " + field));
                        return;
                    }
                    field.setAccessible(true);
                    fields.add(field);
                }
            }
        }
        if (!fields.isEmpty()) {
            event.setInjectionTarget(new WithResources<>(event.getInjectionTarget(), fields));
        }
    }

    void start(@Observes AfterDeploymentValidation deployed, BeanManager beans) {
        for (Class<?> type : ENTERPRISE_BEANS) {
            if (type.isAnnotationPresent(Startup.class)) {
                var bean = beans.resolve(beans.getBeans(type));
                // a client proxy creates the instance at its first call
                beans.getReference(bean, type, beans.createCreationalContext(bean)).toString();
                LOG.fine(() -> "started " + type.getSimpleName());
            }
        }
    }

    void stop(@Observes BeforeShutdown shutdown) {
        Jpa.close();
        DataSources.close();
    }

    /** An injection target that also sets the fields a Jakarta EE container would inject as resources. */
    private static final class WithResources<T> implements InjectionTarget<T> {

        private final InjectionTarget<T> delegate;
        private final List<Field> fields;

        WithResources(InjectionTarget<T> delegate, List<Field> fields) {
            this.delegate = delegate;
            this.fields = fields;
        }

        @Override
        public void inject(T instance, CreationalContext<T> context) {
            delegate.inject(instance, context);
            for (Field field : fields) {
                try {
                    field.set(instance, resource(field));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot set " + field, e);
                }
            }
        }

        private static Object resource(Field field) {
            if (field.isAnnotationPresent(PersistenceContext.class)) {
                return Jpa.proxy();
            }
            if (field.getType() == DataSource.class) {
                return DataSources.pool();
            }
            return new TomcatThreads(TomcatPlatform.class.getClassLoader());
        }

        @Override
        public void postConstruct(T instance) {
            delegate.postConstruct(instance);
        }

        @Override
        public void preDestroy(T instance) {
            delegate.preDestroy(instance);
        }

        @Override
        public T produce(CreationalContext<T> context) {
            return delegate.produce(context);
        }

        @Override
        public void dispose(T instance) {
            delegate.dispose(instance);
        }

        @Override
        public Set<InjectionPoint> getInjectionPoints() {
            return delegate.getInjectionPoints();
        }
    }
}
