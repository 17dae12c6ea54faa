package io.sluice.streams.boundary;

import io.sluice.streams.control.StreamCluster;
import io.sluice.streams.control.StreamHub;
import jakarta.inject.Inject;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;

/**
 * In a cluster ({@code SLUICE_REDIS_URL}, issue 10) the node joins at start-up, not at its first request: its
 * {@link StreamHub} starts, and with it the node's lease, its control channel and its look for lost nodes
 * ({@link StreamCluster#start}). Without Redis it does nothing.
 */
@WebListener
public class ClusterMembership implements ServletContextListener {

    @Inject
    StreamCluster cluster;
    @Inject
    StreamHub hub;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        if (cluster.enabled()) {
            hub.runningCount(); // the hub's start joins the cluster
        }
    }
}
