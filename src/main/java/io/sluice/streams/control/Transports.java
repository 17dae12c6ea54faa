package io.sluice.streams.control;

import io.sluice.platform.control.Redis;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;

/**
 * Chooses the node's {@link StreamTransport} once, from {@code SLUICE_REDIS_URL} (API.md section 1): Redis when it is
 * set, as Mercure picks its transport by URL; this node's memory when it is not.
 */
@ApplicationScoped
public class Transports {

    @Inject
    Redis redis;
    @Inject
    Instance<RedisTransport> cluster;
    @Inject
    Instance<LocalTransport> local;

    /** The transport, the same for the node's life. */
    @Produces
    @ApplicationScoped
    StreamTransport transport() {
        return redis.enabled() ? cluster.get() : local.get();
    }
}
