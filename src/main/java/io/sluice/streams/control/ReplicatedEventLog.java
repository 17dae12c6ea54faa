package io.sluice.streams.control;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An {@link EventLog} that hands every appended entry, with its id, to a {@link Replica} as it is appended (issue
 * 10: the generating node's log of a stream or of a multi-agent run, copied to Redis). The entries stay in the wrapped log, which readers on this node
 * read as before; the replica only ever sees appends, in id order: appends are serialized by this log's lock, which
 * is taken after the stream's (the order {@link EventLog} documents).
 *
 * @param <E> the entry type
 */
public final class ReplicatedEventLog<E> implements EventLog<E> {

    /** Where appended entries go; called under the log's lock, so it must return at once (no network wait). */
    public interface Replica<E> {
        /**
         * Whether the copy has lost entries (writes failed while the replica's store was away) and wants the whole
         * log again before the next entry: {@link #append} then hands it every entry so far, in order, first.
         */
        default boolean wantsAll() {
            return false;
        }

        /**
         * @param id    the entry's id, 1, 2, 3, ... without gaps
         * @param last  whether it is the last entry ({@link EventLog#terminate})
         */
        void appended(long id, E entry, boolean last);
    }

    private final EventLog<E> log;
    private final Replica<E> replica;

    /** @param log the log that keeps the entries, empty */
    public ReplicatedEventLog(EventLog<E> log, Replica<E> replica) {
        this.log = log;
        this.replica = replica;
    }

    @Override
    public synchronized long append(E entry) {
        long id = log.append(entry);
        resync(id);
        replica.appended(id, entry, false);
        return id;
    }

    @Override
    public synchronized long terminate(E last) {
        long id = log.terminate(last);
        resync(id);
        replica.appended(id, last, true);
        return id;
    }

    /** When the replica wants it, the entries before {@code next}, again. */
    private void resync(long next) {
        if (next > 1 && replica.wantsAll()) {
            long after = 0;
            List<Logged<E>> batch;
            while (after < next - 1 && !(batch = log.after(after, 512)).isEmpty()) {
                for (Logged<E> logged : batch) {
                    if (logged.id() >= next) {
                        return;
                    }
                    replica.appended(logged.id(), logged.entry(), false);
                    after = logged.id();
                }
            }
        }
    }

    @Override
    public List<Logged<E>> after(long id, int max) {
        return log.after(id, max);
    }

    @Override
    public long lastId() {
        return log.lastId();
    }

    @Override
    public boolean terminated() {
        return log.terminated();
    }

    @Override
    public void follow(Follower follower) {
        log.follow(follower);
    }

    @Override
    public void unfollow(Follower follower) {
        log.unfollow(follower);
    }

    @Override
    public int followerCount() {
        return log.followerCount();
    }

    @Override
    public void attended() {
        log.attended();
    }

    @Override
    public boolean attendedAfter(long nanos) {
        return log.attendedAfter(nanos);
    }

    @Override
    public void compact(UnaryOperator<List<E>> compactor) {
        log.compact(compactor);
    }

    @Override
    public long graceLeftMillis() {
        return log.graceLeftMillis();
    }
}
