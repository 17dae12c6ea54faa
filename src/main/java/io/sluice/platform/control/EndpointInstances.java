package io.sluice.platform.control;

import java.util.ServiceLoader;

/**
 * Makes the instances of Sluice's WebSocket endpoints where the server would not inject them. A Jakarta EE server
 * creates a {@code @ServerEndpoint} through CDI, with its {@code @Inject} fields set; Tomcat creates it with
 * {@code new}. The Tomcat WAR installs an implementation ({@code META-INF/services}); elsewhere there is none and the
 * server's own configurator makes the instance (issue 14).
 */
public interface EndpointInstances {

    /** The installed implementation, or {@code null} when the server makes endpoint instances itself. */
    EndpointInstances INSTALLED = ServiceLoader.load(EndpointInstances.class, EndpointInstances.class.getClassLoader())
            .findFirst().orElse(null);

    /**
     * A new, injected instance of the endpoint class.
     *
     * @throws InstantiationException when it cannot be made
     */
    <T> T create(Class<T> endpointClass) throws InstantiationException;
}
