package io.sluice.platform.tomcat;

import io.sluice.platform.control.EndpointInstances;
import jakarta.enterprise.inject.spi.Unmanaged;

/**
 * WebSocket endpoints with CDI injection on Tomcat, whose WebSocket container creates them with {@code new}: each
 * instance is made by CDI's {@link Unmanaged}, its {@code @Inject} fields set and its {@code @PostConstruct} run.
 * The endpoints inject only normal-scoped beans (client proxies), so an instance holds no dependent object to release.
 */
public class TomcatEndpoints implements EndpointInstances {

    @Override
    public <T> T create(Class<T> endpointClass) throws InstantiationException {
        try {
            return new Unmanaged<>(endpointClass).newInstance().produce().inject().postConstruct().get();
        } catch (RuntimeException e) {
            InstantiationException failure = new InstantiationException("cannot create " + endpointClass.getName());
            failure.initCause(e);
            throw failure;
        }
    }
}
