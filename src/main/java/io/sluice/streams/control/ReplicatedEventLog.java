package io.sluice.streams.control;

import java.util.List;
import java.util.function.UnaryOperator;

/**
 * An {@link EventLog} that hands every appended entry, with its id, to a {@link Replica} as it is appended (issue
 * 10: the generating node's log, copied to Redis). The entries stay in the wrapped log, which readers on this node
 * read as before; the replica only ever sees appends, in id order: appends are serialized by this log's lock, which
 * is taken after the stream's (the order {@link EventLog} documents).
 */
public final class ReplicatedEventLog implements EventLog<StreamEntry> {

    /** Where appended entries go; called under the log's lock, so it must return at once (no network wait). */
    public interface Replica {
        /**
         * @param id    the entry's id, 1, 2, 3, ... without gaps
         * @param last  whether it is the last entry ({@link EventLog#terminate})
         */
        void appended(long id, StreamEntry entry, boolean last);
    }

    private final EventLog<StreamEntry> log;
    private final Replica replica;

    /** @param log the log that keeps the entries, empty */
    public ReplicatedEventLog(EventLog<StreamEntry> log, Replica replica) {
        this.log = log;
        this.replica = replica;
    }

    @Override
    public synchronized long append(StreamEntry entry) {
        long id = log.append(entry);
        replica.appended(id, entry, false);
        return id;
    }

    @Override
    public synchronized long terminate(StreamEntry last) {
        long id = log.terminate(last);
        replica.appended(id, last, true);
        return id;
    }

    @Override
    public List<Logged<StreamEntry>> after(long id, int max) {
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
    public void compact(UnaryOperator<List<StreamEntry>> compactor) {
        log.compact(compactor);
    }

    @Override
    public long graceLeftMillis() {
        return log.graceLeftMillis();
    }
}
