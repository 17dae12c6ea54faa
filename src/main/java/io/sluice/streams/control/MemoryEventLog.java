package io.sluice.streams.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory {@link EventLog}: entries in an array list (id {@code n} at index {@code n - 1}), followers in a
 * concurrent set, the resume grace in a {@link ResumeGrace}. Memory is the entries themselves plus a few dozen bytes;
 * nothing is kept per follower beyond its membership.
 *
 * @param <E> the entry type, immutable
 */
public final class MemoryEventLog<E> implements EventLog<E> {

    private List<E> entries = new ArrayList<>();
    private final Set<Follower> followers = ConcurrentHashMap.newKeySet(4);
    private final ResumeGrace grace;
    private boolean terminated;

    /** @param graceMillis the resume grace period, in ms */
    public MemoryEventLog(long graceMillis) {
        this.grace = new ResumeGrace(graceMillis);
    }

    @Override
    public long append(E entry) {
        long id;
        synchronized (this) {
            if (terminated) {
                throw new IllegalStateException("the log has ended");
            }
            entries.add(entry);
            id = entries.size();
        }
        wakeAll();
        return id;
    }

    @Override
    public long terminate(E last) {
        long id;
        synchronized (this) {
            if (terminated) {
                throw new IllegalStateException("the log has ended");
            }
            entries.add(last);
            terminated = true;
            id = entries.size();
        }
        wakeAll();
        return id;
    }

    @Override
    public synchronized void compact(java.util.function.UnaryOperator<List<E>> compactor) {
        if (!terminated) {
            throw new IllegalStateException("only an ended log is compacted");
        }
        entries = compactor.apply(entries);
    }

    @Override
    public synchronized List<Logged<E>> after(long id, int max) {
        int size = entries.size();
        int from = (int) Math.max(0, Math.min(id, size));
        int to = (int) Math.min(size, (long) from + Math.max(1, max));
        if (from >= to) {
            return List.of();
        }
        List<Logged<E>> out = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            out.add(new Logged<>(i + 1, entries.get(i)));
        }
        return out;
    }

    @Override
    public synchronized long lastId() {
        return entries.size();
    }

    @Override
    public synchronized boolean terminated() {
        return terminated;
    }

    @Override
    public void follow(Follower follower) {
        followers.add(follower);
        grace.attended();
        follower.wake();
    }

    @Override
    public void unfollow(Follower follower) {
        if (followers.remove(follower)) {
            grace.detached();
        }
    }

    @Override
    public int followerCount() {
        return followers.size();
    }

    @Override
    public void attended() {
        grace.attended();
    }

    @Override
    public boolean attendedAfter(long nanos) {
        return grace.attendedAfter(nanos);
    }

    @Override
    public long graceLeftMillis() {
        return grace.nextCheckMillis(!followers.isEmpty());
    }

    private void wakeAll() {
        for (Follower follower : followers) {
            follower.wake();
        }
    }
}
