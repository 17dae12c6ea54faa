package io.sluice.platform.control;

/**
 * Whether other live nodes share this node's database and end their own records (a cluster, issue 10): then, at
 * start-up, {@link Database} closes only the records that name no node. Implemented above {@code platform} by the
 * stream engine's transport ({@code io.sluice.streams.control.StreamTransport}), the one place that knows.
 */
public interface SharedRecords {

    /** Whether the node is one of several sharing the database and the streams. */
    boolean shared();
}
