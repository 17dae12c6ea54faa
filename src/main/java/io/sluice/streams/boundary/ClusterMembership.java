package io.sluice.streams.boundary;

import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamTransport;
import jakarta.inject.Inject;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;

/**
 * In a cluster ({@code SLUICE_REDIS_URL}, issue 10) the node joins at start-up, not at its first request: its
 * {@link StreamHub} starts, and with it the node's lease, its control channel and its look for lost nodes
 * ({@link StreamTransport#start}). A node on its own shares nothing and starts its hub at the first request.
 */
@WebListener
public class ClusterMembership implements ServletContextListener {

    @Inject
    StreamTransport transport;
    @Inject
    StreamHub hub;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        if (transport.shared()) {
            hub.runningCount(); // the hub's start joins the cluster
        }
    }
}
