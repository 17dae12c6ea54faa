package io.sluice.streams.control;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * The entries of an ended stream, stored compactly while it is retained for replay (README "Retain"): the answer
 * and the reasoning as one string each, and per delta three ints and a flag, instead of a record and a string per
 * delta (about 80 bytes each). An ended stream of 100 deltas then holds its text plus about 1.5 KiB, not 9 KiB, which
 * keeps the retained streams (up to {@code SLUICE_MAX_STREAMS}) off the collector's back. Entries are rebuilt on
 * read: equal to the originals, never the same objects. Immutable.
 */
final class CompactStreamLog extends AbstractList<StreamEntry> implements RandomAccess {

    private final StreamEntry first;
    private final StreamEntry last;
    private final String content;
    private final String reasoning;
    /** Per delta: where it starts in its kind's text, its length and the answer's length after it. */
    private final int[] from;
    private final int[] length;
    private final int[] contentEnd;
    /** Per delta: bit 0 reasoning, bit 1 final. */
    private final byte[] flags;

    private CompactStreamLog(StreamEntry first, StreamEntry last, String content, String reasoning, int[] from,
                             int[] length, int[] contentEnd, byte[] flags) {
        this.first = first;
        this.last = last;
        this.content = content;
        this.reasoning = reasoning;
        this.from = from;
        this.length = length;
        this.contentEnd = contentEnd;
        this.flags = flags;
    }

    /**
     * The compact form of an ended stream's entries ({@code Opened}, deltas, {@code Ended}); any other shape is
     * returned as it is.
     */
    static List<StreamEntry> of(List<StreamEntry> entries) {
        int n = entries.size();
        if (n < 2 || !(entries.get(0) instanceof StreamEntry.Opened) || !(entries.get(n - 1) instanceof StreamEntry.Ended)) {
            return entries;
        }
        int deltas = n - 2;
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        int[] from = new int[deltas];
        int[] length = new int[deltas];
        int[] contentEnd = new int[deltas];
        byte[] flags = new byte[deltas];
        for (int i = 0; i < deltas; i++) {
            if (!(entries.get(i + 1) instanceof StreamEntry.Delta d)) {
                return entries;
            }
            StringBuilder text = d.reasoning() ? reasoning : content;
            if (d.from() != text.length()) { // not contiguous: keep the entries as they are
                return entries;
            }
            text.append(d.text());
            from[i] = d.from();
            length[i] = d.text().length();
            contentEnd[i] = d.contentEnd();
            flags[i] = (byte) ((d.reasoning() ? 1 : 0) | (d.isFinal() ? 2 : 0));
        }
        return new CompactStreamLog(entries.get(0), entries.get(n - 1), content.toString(), reasoning.toString(), from,
                length, contentEnd, flags);
    }

    @Override
    public StreamEntry get(int index) {
        if (index == 0) {
            return first;
        }
        if (index == size() - 1) {
            return last;
        }
        int i = index - 1;
        if (i < 0 || i >= from.length) {
            throw new IndexOutOfBoundsException(index);
        }
        boolean ofReasoning = (flags[i] & 1) != 0;
        String text = (ofReasoning ? reasoning : content).substring(from[i], from[i] + length[i]);
        return new StreamEntry.Delta(ofReasoning ? DeltaCoalescer.Kind.REASONING : DeltaCoalescer.Kind.CONTENT,
                from[i], text, contentEnd[i], (flags[i] & 2) != 0);
    }

    @Override
    public int size() {
        return from.length + 2;
    }
}
