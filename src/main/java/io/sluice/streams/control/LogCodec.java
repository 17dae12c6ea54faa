package io.sluice.streams.control;

/**
 * How the entries of a replicated log are written to the cluster's store and read back (issue 10): one text per
 * entry, the entry's id kept beside it (never inside), so an entry can be appended at any id. A stream's entries use
 * {@link EntryCodec#STREAMS}; a multi-agent run's frames the agents' codec.
 *
 * @param <E> the entry type, immutable
 */
public interface LogCodec<E> {

    /** The entry as text. */
    String encode(E entry);

    /**
     * The entry that {@link #encode} wrote.
     *
     * @throws IllegalArgumentException when {@code text} is not such an entry
     */
    E decode(String text);

    /** Whether {@code entry} is a log's last one (nothing is appended after it). */
    boolean last(E entry);
}
