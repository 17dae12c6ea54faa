package io.sluice.streams.control;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.Redis;
import io.sluice.platform.control.SluiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Typed;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The transport of a cluster ({@code SLUICE_REDIS_URL} set, issue 10): each log generated here is kept in memory and
 * copied to Redis as it grows ({@link LogPublisher}), so any node serves any stream; other nodes' logs are followed
 * from Redis ({@link Mirrors}); {@link Control} messages go over Redis channels ({@link ControlBus}). The keys are
 * {@link StreamCluster}'s. Its start also starts the node's lease ({@link NodeLeases}), the {@link Attention} reports
 * and the {@link IdleSweep}. Per-owner caps across nodes: {@link ClusterPlaces}.
 */
@ApplicationScoped
@Typed(RedisTransport.class)
public class RedisTransport implements StreamTransport {

    @Inject
    Redis redis;
    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;
    @Inject
    NodeLeases leases;
    @Inject
    ControlBus bus;
    @Inject
    Mirrors mirrors;
    @Inject
    RemoteSummaries summaries;
    @Inject
    Attention attention;
    @Inject
    IdleSweep sweep;
    @Inject
    ClusterPlaces places;

    private final AtomicBoolean started = new AtomicBoolean();
    private volatile Function<String, Optional<Stream>> local = id -> Optional.empty();

    @Override
    public void start(Function<String, Optional<Stream>> localStreams) {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        local = localStreams;
        leases.start();
        bus.on(Control.Stop.class, m -> mine(m.id(), m.owner()).ifPresent(s -> s.stop(m.reason(), m.status())));
        bus.on(Control.Unload.class, m -> mine(m.id(), m.owner()).ifPresent(s -> s.abortOnUnload(m.graceMillis())));
        bus.on(Control.Attend.class, m -> m.ids().forEach(id -> local.apply(id).ifPresent(Stream::attended)));
        bus.listen();
        executors.timers().scheduleWithFixedDelay(attention::report, Attention.EVERY_MILLIS, Attention.EVERY_MILLIS,
                TimeUnit.MILLISECONDS);
        executors.timers().scheduleWithFixedDelay(sweep::sweep, IdleSweep.EVERY_MILLIS, IdleSweep.EVERY_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** The owner's stream generated here. */
    private Optional<Stream> mine(String id, String owner) {
        return local.apply(id).filter(s -> s.owner().equals(owner));
    }

    /** Shared: the other nodes' records are theirs to end. */
    @Override
    public boolean shared() {
        return true;
    }

    /** Redis answers {@code PING} within {@code timeoutMillis}. */
    @Override
    public Optional<String> unreachable(long timeoutMillis) {
        return redis.ping(timeoutMillis);
    }

    /** In memory, copied to Redis; the stream is listed among its owner's running streams while it runs. */
    @Override
    public EventLog<StreamEntry> streamLog(StreamSpec spec, String owner, long graceMillis) {
        Map<String, String> meta = new HashMap<>();
        meta.put("type", spec.type().wire());
        if (spec.relatedId() != null) {
            meta.put("relatedId", spec.relatedId());
        }
        if (spec.conversationId() != null) {
            meta.put("conversationId", spec.conversationId());
        }
        if (spec.model() != null) {
            meta.put("model", spec.model());
        }
        return new ReplicatedEventLog<>(new MemoryEventLog<>(graceMillis), new LogPublisher<>(redis, spec.id(), owner,
                meta, true, EntryCodec.STREAMS, StreamCluster.retentionSeconds(config)));
    }

    /** Copied to Redis; {@code lostEnd} goes into the meta as {@value StreamCluster#LOST_END}. */
    @Override
    public <E> EventLog<E> replicated(EventLog<E> log, String id, String owner, Map<String, String> meta,
                                      LogCodec<E> codec, E lostEnd) {
        Map<String, String> all = new HashMap<>(meta);
        all.put(StreamCluster.LOST_END, codec.encode(lostEnd));
        return new ReplicatedEventLog<>(log, new LogPublisher<>(redis, id, owner, all, false, codec,
                StreamCluster.retentionSeconds(config)));
    }

    @Override
    public Optional<Stream> find(String owner, String id) {
        return mirrors.mirror(owner, id);
    }

    @Override
    public Optional<Stream> await(String owner, String id, long waitMillis) {
        return mirrors.awaitMirror(owner, id, waitMillis);
    }

    @Override
    public List<StreamSummary> running(String owner) {
        return summaries.running(owner, local);
    }

    @Override
    public Optional<Map<String, String>> meta(String id) {
        return mirrors.meta(id);
    }

    @Override
    public LogCopy<?> follow(String id, String node, LogCopy<?> copy) {
        return mirrors.follow(id, node, copy);
    }

    @Override
    public LogCopy<?> followed(String id) {
        return mirrors.followed(id);
    }

    @Override
    public void send(String node, Control message) {
        bus.send(node, message);
    }

    @Override
    public <C extends Control> void onControl(Class<C> type, Consumer<? super C> handler) {
        bus.on(type, handler);
    }

    @Override
    public void broadcast(Control message) {
        bus.broadcast(message);
    }

    /** Counted across the nodes with a lease ({@link ClusterPlaces}). */
    @Override
    public OwnerQuota quota(String kind, IntSupplier max) {
        return places.quota(kind, max);
    }
}
