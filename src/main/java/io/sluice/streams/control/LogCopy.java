package io.sluice.streams.control;

/**
 * What a node holds of a log that another node of the cluster writes (issue 10): a stream's
 * {@linkplain Stream#mirror mirror}, a multi-agent run's frames. {@link Mirrors} gives it the log's entries in id
 * order, from 1, without gaps, decoded with its {@link #codec()}.
 *
 * @param <E> the entry type
 */
public interface LogCopy<E> {

    /** How its entries were written. */
    LogCodec<E> codec();

    /** Id of the last entry it holds, 0 when none. */
    long lastId();

    /** Whether it holds the last entry. */
    boolean ended();

    /** The next entry; the log's {@linkplain LogCodec#last last} ends it. */
    void apply(E entry);

    /** The log cannot be followed on (a gap, an unreadable entry): end it, keeping what it holds. */
    void lost(String why);

    /** Its followers on this node. */
    int followerCount();
}
