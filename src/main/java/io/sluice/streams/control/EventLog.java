package io.sluice.streams.control;

import java.util.List;

/**
 * An ordered, replayable log of typed entries with live readers: the one seam between producing events (a
 * stream's generation, a multi-agent run) and delivering them (SSE connections, WebSocket sessions, polls, a run
 * following its agents). It plays the part of Mercure's {@code Transport}: append, read after, terminate, follow.
 *
 * <p><b>Ids.</b> Entries get ids 1, 2, 3, ... without gaps, so "the entries after N" is an index lookup and a reader
 * resuming after {@code Last-Event-ID: N} (API.md section 3) or {@code afterSequence: N} (section 5) gets every
 * later entry exactly once.
 *
 * <p><b>Readers are cursors.</b> A {@link Follower} is told that there is news ({@link Follower#wake()}) and reads
 * with {@link #after} from its own position at its own pace; the log never pushes entries or buffers them per
 * reader, so a slow reader only falls behind and never slows the writer or other readers.
 *
 * <p><b>End.</b> {@link #terminate} appends the last entry; nothing can be appended after it.
 *
 * <p><b>Resume grace</b> (API.md section 3, "a network drop is not a stop"): the log counts its followers and the
 * owner's attention ({@link #attended()}: a new follower, a poll), and tells how long the producer may go on with
 * nobody following ({@link #graceLeftMillis()}).
 *
 * <p>Implementations are thread-safe; {@link Follower#wake()} is called on the appending thread, possibly under the
 * producer's lock, so it must return at once. The in-memory {@link MemoryEventLog} is the default; a clustered
 * implementation keeps the same contract across nodes.
 *
 * @param <E> the entry type, immutable
 */
public interface EventLog<E> {

    /** An entry with its id. */
    record Logged<E>(long id, E entry) {
    }

    /**
     * Appends an entry and wakes the followers.
     *
     * @return its id
     * @throws IllegalStateException after {@link #terminate}
     */
    long append(E entry);

    /**
     * Appends the last entry, ends the log and wakes the followers.
     *
     * @return its id
     * @throws IllegalStateException when the log has already ended
     */
    long terminate(E last);

    /**
     * The entries after {@code id}, oldest first, at most {@code max}; empty when there are none yet.
     *
     * @param id  the last id the reader has, 0 for all; beyond {@link #lastId()} reads nothing
     * @param max at least 1
     */
    List<Logged<E>> after(long id, int max);

    /** Id of the last entry, 0 when empty. */
    long lastId();

    /** Whether the last entry is in (no entry will follow). */
    boolean terminated();

    /** Adds a follower, counts it as the owner's attention, and wakes it so that it reads what is there. */
    void follow(Follower follower);

    /** Removes a follower; with none left, the resume grace is counted from now. Idempotent. */
    void unfollow(Follower follower);

    /** Followers now. */
    int followerCount();

    /** The owner attended (a poll, a re-attach): the resume grace starts again from now. */
    void attended();

    /** Whether the owner attended after {@code nanos} ({@link System#nanoTime()}). */
    boolean attendedAfter(long nanos);

    /**
     * Lets an ended log store its entries more compactly ({@code compactor} returns an equal, immutable list); a log
     * that keeps nothing in memory ignores it. Readers see the same entries before and after.
     *
     * @throws IllegalStateException while the log has not ended
     */
    default void compact(java.util.function.UnaryOperator<List<E>> compactor) {
    }

    /**
     * How much of the resume grace is left, in ms: the full period while followed, else the period less the time
     * since the last follower left or the owner last attended; 0 when it has run out.
     */
    long graceLeftMillis();
}
