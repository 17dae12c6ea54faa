package io.sluice.streams.control;

import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;

/**
 * The layout of a cluster in Redis (issue 10): every key and channel the nodes share. Keys that name a log carry its
 * id as a hash tag, so one log's keys live on one Redis Cluster slot.
 * <ul>
 *   <li>{@code sluice:log:{id}} ({@link #logKey}): a Redis Stream, one entry per log entry, entry id {@code n-0} for
 *       event id {@code n} (so {@code Last-Event-ID: n} reads from {@code n+1-0}), field {@code e} the entry's text
 *       ({@link LogCodec}: {@link EntryCodec} for a stream, the agents' codec for a run's frames);</li>
 *   <li>{@code sluice:meta:{id}} ({@link #metaKey}): a hash with the log's owner, generating node, creation time
 *       (epoch ms) and what its writer adds (a stream's type, related id, conversation and model; a run's agents and
 *       {@value #LOST_END});</li>
 *   <li>{@code sluice:running:<owner>} ({@link #runningKey}): a sorted set of the owner's running stream ids, scored by
 *       creation time;</li>
 *   <li>channel {@code sluice:news:{id}} ({@link #newsChannel}): the id of each entry appended, for the nodes that
 *       follow the log;</li>
 *   <li>channel {@code sluice:node:<node>} ({@link #nodeChannel}): the node's {@link Control} messages;</li>
 *   <li>channel {@value #BROADCAST}: the {@link Control} messages to every node (a tab's connection replaced);</li>
 *   <li>{@code sluice:alive:<node>} ({@link #leaseKey}) and {@code sluice:takeover:<node>} ({@link #takeoverKey}): a
 *       node's lease and the claim to take it over ({@link NodeLeases});</li>
 *   <li>{@code sluice:places:<kind>:<owner>}: per-owner places across nodes ({@link ClusterPlaces}).</li>
 * </ul>
 * The log and meta keys expire {@code SLUICE_STREAM_RETENTION_SECONDS} after the log ended, and at the latest
 * {@value #RUNNING_TTL_SECONDS} s after their last write while it runs.
 *
 * <p>Who does what with them: {@link LogPublisher} writes a log, {@link Mirrors} follow one, {@link ControlBus}
 * carries the control messages, {@link RemoteSummaries} lists the running streams, all behind
 * {@link RedisTransport}.
 */
@ApplicationScoped
public class StreamCluster {

    /** Entries read from Redis at a time. */
    static final int BATCH = 512;
    /** Longest life of a running log's keys after their last write, in s (refreshed as the log grows). */
    static final long RUNNING_TTL_SECONDS = 3_600;
    /** Appends between two refreshes of a running log's expiry. */
    static final int REFRESH_EVERY = 256;
    /**
     * A meta field of a log that is not a stream's (a run's frames): the text of the entry that a node taking over the
     * log's lost writer appends as the log's last entry, at the next id.
     */
    static final String LOST_END = "lostEnd";
    /** The channel of the {@link Control} messages to every node (its name predates the other control messages). */
    static final String BROADCAST = "sluice:guard:replaced";

    static String logKey(String id) {
        return "sluice:log:{" + id + "}";
    }

    static String metaKey(String id) {
        return "sluice:meta:{" + id + "}";
    }

    static String runningKey(String owner) {
        return "sluice:running:" + owner;
    }

    static String newsChannel(String id) {
        return "sluice:news:{" + id + "}";
    }

    static String nodeChannel(String node) {
        return "sluice:node:" + node;
    }

    static String leaseKey(String node) {
        return "sluice:alive:" + node;
    }

    static String takeoverKey(String node) {
        return "sluice:takeover:" + node;
    }

    /** The Redis Stream entry id of event {@code n}: {@code n-0}. */
    static String entryId(long n) {
        return n + "-0";
    }

    /** The event id of a Redis Stream entry id ({@code n-0} holds event {@code n}). */
    static long eventId(String entryId) {
        return Long.parseLong(entryId.substring(0, entryId.indexOf('-')));
    }

    /** How long an ended log stays in Redis: the retention period, in s, at least 1. */
    static long retentionSeconds(SluiceConfig config) {
        return Math.max(1, TimeUnit.MILLISECONDS.toSeconds(config.retentionMillis()));
    }

    /** Whether a command failed because an {@code XADD} named an id at or below the log's last: the entry is there. */
    static boolean idTaken(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("equal or smaller")) {
                return true;
            }
        }
        return false;
    }
}
