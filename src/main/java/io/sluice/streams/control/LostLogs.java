package io.sluice.streams.control;

import java.util.List;

/**
 * Logs in the cluster that are not streams' (an agent run's, {@code io.sluice.agents}), whose records a lost node
 * left open: the seam through which {@link NodeLeases} closes them when it takes over that node (issue 10), without
 * knowing their records. Implementations are CDI beans (found through {@code Instance<LostLogs>}), thread-safe.
 */
public interface LostLogs {

    /**
     * Ends, in a transaction of its own, the records that {@code node} left open, with end reason
     * {@link Reason#NODE_LOST}; each is read with a write lock, so of two nodes that close them at once one does.
     *
     * @param node the lost node's id
     * @return the ids of their logs in Redis, each of which then gets its lost writer's end entry
     *         (the one given to {@link StreamTransport#replicated}); empty when there were none
     */
    List<String> closeLost(String node);
}
