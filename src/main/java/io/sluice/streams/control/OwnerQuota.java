package io.sluice.streams.control;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * A per-owner cap: at most {@code max} places per owner, of one kind (issue 21, "one {@code OwnerQuota}"). It counts
 * running streams ({@code SLUICE_MAX_STREAMS_PER_OWNER}, {@link StreamHub}), live connections
 * ({@code SLUICE_MAX_CONNECTIONS_PER_OWNER}, {@link ConnectionGuard}) and multi-agent runs
 * ({@code SLUICE_AGENTS_MAX_RUNS_PER_OWNER}); what a refusal answers (429, {@code TOO_MANY_RUNS}) is the caller's.
 *
 * <p>{@link #tryOpen} is atomic on this node: one {@link ConcurrentHashMap#compute} checks the owner's count and takes
 * the place, so threads opening at once never pass the cap. Where the quota is {@linkplain Shared shared} with other
 * nodes ({@link ClusterPlaces#quota}), the place is then also taken there, and given back here when the cluster
 * refuses it. An owner who holds nothing has no entry: idle owners cost no memory.
 */
public final class OwnerQuota {

    /** Where the places are counted beyond this node: the cluster's ({@link ClusterPlaces}), or nowhere. */
    public interface Shared {
        /**
         * Takes one of the owner's places across the nodes.
         *
         * @param max the cap
         * @return whether the owner was under the cap, and the place is taken
         */
        boolean take(String owner, int max);

        /** Gives back a place of {@link #take}, without waiting. */
        void give(String owner);

        /** A quota of this node only: takes always succeed and cost nothing. */
        Shared NONE = new Shared() {
            @Override
            public boolean take(String owner, int max) {
                return true;
            }

            @Override
            public void give(String owner) {
            }
        };
    }

    private final IntSupplier max;
    private final Shared shared;
    private final ConcurrentHashMap<String, Integer> held = new ConcurrentHashMap<>();

    /**
     * @param max    the cap per owner, read at each open (configuration)
     * @param shared where the places also count, {@link Shared#NONE} for this node only
     */
    public OwnerQuota(IntSupplier max, Shared shared) {
        this.max = max;
        this.shared = shared;
    }

    /** A quota of this node only. */
    public OwnerQuota(IntSupplier max) {
        this(max, Shared.NONE);
    }

    /** The cap per owner. */
    public int max() {
        return max.getAsInt();
    }

    /**
     * Takes one place for {@code owner} when they hold fewer than the cap, here and (when shared) across the nodes.
     *
     * @return whether the place is taken; give it back with {@link #close}
     */
    public boolean tryOpen(String owner) {
        int cap = max();
        boolean[] taken = {false};
        held.compute(owner, (o, n) -> {
            int count = n == null ? 0 : n;
            if (count >= cap) {
                return n;
            }
            taken[0] = true;
            return count + 1;
        });
        if (!taken[0]) {
            return false;
        }
        if (!shared.take(owner, cap)) {
            release(owner, null);
            return false;
        }
        return true;
    }

    /** Gives back a place of {@link #tryOpen}. */
    public void close(String owner) {
        close(owner, null);
    }

    /**
     * Gives back a place of {@link #tryOpen}.
     *
     * @param whenIdle runs, inside the atomic step, when the owner holds no place any more (so that no open of the
     *                 owner runs between); it must be quick and must not use this quota
     */
    public void close(String owner, Runnable whenIdle) {
        release(owner, whenIdle);
        shared.give(owner);
    }

    private void release(String owner, Runnable whenIdle) {
        held.computeIfPresent(owner, (o, n) -> {
            if (n > 1) {
                return n - 1;
            }
            if (whenIdle != null) {
                whenIdle.run();
            }
            return null;
        });
    }

    /** Whether {@code owner} holds fewer places than the cap on this node (an early check; {@link #tryOpen} decides). */
    public boolean hasRoom(String owner) {
        return count(owner) < max();
    }

    /** The places {@code owner} holds on this node. */
    public int count(String owner) {
        return held.getOrDefault(owner, 0);
    }
}
