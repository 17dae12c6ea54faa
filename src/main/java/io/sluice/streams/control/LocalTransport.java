package io.sluice.streams.control;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Typed;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The transport of a node on its own ({@code SLUICE_REDIS_URL} not set): every log lives in this node's memory, no
 * other node writes a log or sends a message, and nothing is shared.
 */
@ApplicationScoped
@Typed(LocalTransport.class)
public class LocalTransport implements StreamTransport {

    /** Nothing to start. */
    @Override
    public void start(Function<String, Optional<Stream>> localStreams) {
    }

    /** Not shared: a start-up closes every record this node's crash left open. */
    @Override
    public boolean shared() {
        return false;
    }

    /** Always empty: there is no store to reach. */
    @Override
    public Optional<String> unreachable(long timeoutMillis) {
        return Optional.empty();
    }

    /** An in-memory log. */
    @Override
    public EventLog<StreamEntry> streamLog(StreamSpec spec, String owner, long graceMillis) {
        return new MemoryEventLog<>(graceMillis);
    }

    /** {@code log} itself. */
    @Override
    public <E> EventLog<E> replicated(EventLog<E> log, String id, String owner, Map<String, String> meta,
                                      LogCodec<E> codec, E lostEnd) {
        return log;
    }

    /** Always empty: no other node. */
    @Override
    public Optional<Stream> find(String owner, String id) {
        return Optional.empty();
    }

    /** Always empty at once. */
    @Override
    public Optional<Stream> await(String owner, String id, long waitMillis) {
        return Optional.empty();
    }

    /** Always empty. */
    @Override
    public List<StreamSummary> running(String owner) {
        return List.of();
    }

    /** Always empty. */
    @Override
    public Optional<Map<String, String>> meta(String id) {
        return Optional.empty();
    }

    /** {@code copy}, which nothing fills: no other node writes logs (never called, as {@link #meta} is empty). */
    @Override
    public LogCopy<?> follow(String id, String node, LogCopy<?> copy) {
        return copy;
    }

    /** Always {@code null}. */
    @Override
    public LogCopy<?> followed(String id) {
        return null;
    }

    /** Nothing is sent: there is no other node. */
    @Override
    public void send(String node, Control message) {
    }

    /** Nothing arrives: there is no other node. */
    @Override
    public <C extends Control> void onControl(Class<C> type, Consumer<? super C> handler) {
    }

    /** Nothing: there is no other node. */
    @Override
    public void broadcast(Control message) {
    }

    /** This node's count only. */
    @Override
    public OwnerQuota quota(String kind, IntSupplier max) {
        return new OwnerQuota(max);
    }
}
