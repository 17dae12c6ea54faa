package io.sluice.streams.control;

import io.sluice.platform.control.ProblemException;
import io.sluice.platform.control.SharedRecords;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The one seam between the stream engine and where its logs live, chosen once at start from {@code SLUICE_REDIS_URL}
 * ({@link Transports}), as Mercure picks its {@code Transport} by URL: {@link LocalTransport} keeps every log in this
 * node's memory; {@link RedisTransport} also copies each log to Redis, follows other nodes' logs from there and
 * carries {@link Control} messages between nodes (issue 10). The rest of the engine never asks which one it has.
 *
 * <p>What it does, by what the engine needs: <b>append and end</b> ({@link #streamLog}, {@link #replicated}: the log
 * a producer writes, which reaches the other nodes as it grows); <b>read after and follow</b> a log written elsewhere
 * ({@link #find}, {@link #await}, {@link #running}, and for a run's frames {@link #meta}, {@link #follow},
 * {@link #followed}); <b>control</b> ({@link #send}, {@link #onControl}); and what the node's start, health and
 * crash recovery ask ({@link #start}, {@link #unreachable}, {@link #shared}).
 *
 * <p>Implementations are thread-safe.
 */
public interface StreamTransport extends SharedRecords {

    /**
     * Starts serving: this node's control messages, its lease and look for lost nodes, the attention reports and the
     * idle sweep. Once; later calls do nothing.
     *
     * @param localStreams finds a stream generated on this node by id
     */
    void start(Function<String, Optional<Stream>> localStreams);

    /**
     * Why the shared store does not answer within {@code timeoutMillis}, for the readiness check.
     *
     * @return empty when it answered, or when there is none; else a short reason without secrets
     */
    Optional<String> unreachable(long timeoutMillis);

    /**
     * The log of a new stream generated on this node.
     *
     * @param graceMillis the resume grace period, in ms
     */
    EventLog<StreamEntry> streamLog(StreamSpec spec, String owner, long graceMillis);

    /**
     * {@code log}, written on this node, readable by the other nodes as it grows (a multi-agent run's frames).
     *
     * @param id      the log's id, unique like a stream's
     * @param meta    what other nodes read besides its owner, node and creation time ({@link #meta})
     * @param codec   writes each entry
     * @param lostEnd the entry that ends the log when this node is lost before it did ({@link NodeLeases})
     */
    <E> EventLog<E> replicated(EventLog<E> log, String id, String owner, Map<String, String> meta, LogCodec<E> codec,
                               E lostEnd);

    /**
     * The owner's stream {@code id} generated on another node, followed here (a {@linkplain Stream#mirror mirror}).
     *
     * @return empty for a {@code null} or unknown id, another owner's stream, or one this node generates
     * @throws ProblemException 503 when the shared store does not answer
     */
    Optional<Stream> find(String owner, String id);

    /**
     * {@link #find}, tried for at most {@code waitMillis} while the stream is recorded but nothing of it is readable
     * yet (another node started it a moment ago); blocks the caller meanwhile.
     *
     * @throws ProblemException 503 as {@link #find}
     */
    Optional<Stream> await(String owner, String id, long waitMillis);

    /**
     * The owner's running streams generated on other nodes, summarized (no text, no mirror made).
     *
     * @throws ProblemException 503 as {@link #find}
     */
    List<StreamSummary> running(String owner);

    /**
     * What the writer of log {@code id} stored with it on another node: {@code owner}, {@code node},
     * {@code createdAt} and its own fields.
     *
     * @return empty for a {@code null} or unknown id
     * @throws ProblemException 503 as {@link #find}
     */
    Optional<Map<String, String>> meta(String id);

    /**
     * Follows log {@code id}, written by {@code node}, into {@code copy} until it ends.
     *
     * @return the copy this node follows for that log: {@code copy}, or one that another request made first
     * @throws ProblemException 503 as {@link #find}
     */
    LogCopy<?> follow(String id, String node, LogCopy<?> copy);

    /** The copy this node follows for log {@code id}, or {@code null}. */
    LogCopy<?> followed(String id);

    /** Sends {@code message} to {@code node}, without waiting. */
    void send(String node, Control message);

    /** Sends {@code message} to every node, this one included, without waiting; nothing without other nodes. */
    void broadcast(Control message);

    /**
     * A per-owner cap of {@code kind} ({@link ClusterPlaces#STREAM_PLACES}, {@link ClusterPlaces#CONNECTION_PLACES}):
     * counted on this node and, where nodes share the transport, across them (issue 10, cluster-wide limits).
     *
     * @param max the cap per owner, read at each open
     */
    OwnerQuota quota(String kind, IntSupplier max);

    /**
     * Hands the messages of type {@code type} that nodes send here (or to every node) to {@code handler}, on the work
     * pool.
     */
    <C extends Control> void onControl(Class<C> type, Consumer<? super C> handler);
}
