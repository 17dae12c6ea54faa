package io.sluice.streams.control;

import jakarta.json.JsonObject;

/**
 * An entry of a stream's {@link EventLog} (API.md section 2), typed: the log holds what happened, and each edge
 * (SSE, polling, a multi-agent run's frames) renders it in its own format, once per entry.
 *
 * <ul>
 *   <li>{@link Opened}: the first event, {@code stream};</li>
 *   <li>{@link Delta}: a coalesced piece of the answer or of the reasoning, a {@code message} event;</li>
 *   <li>{@link Ended}: the last entry, with the stream's result: {@code done}, {@code error} or {@code stopped}.</li>
 * </ul>
 */
public sealed interface StreamEntry {

    /**
     * Length of the answer sent in events up to and including this entry, in UTF-16 code units: what a client that
     * has this entry holds. It never decreases along the log, so offsets (API.md section 3, {@code offset}) map to
     * entries by it.
     */
    int contentEnd();

    /**
     * The first entry.
     *
     * @param data the {@code stream} event's data: {@code streamId}, {@code type} and what the stream's type adds
     *             ({@code conversationId}, {@code userMessageId}, {@code relatedId}, {@code runId}, {@code agent})
     */
    record Opened(JsonObject data) implements StreamEntry {
        @Override
        public int contentEnd() {
            return 0;
        }
    }

    /**
     * A piece of text.
     *
     * @param kind       answer or reasoning
     * @param from       where the piece starts in its kind's text, in UTF-16 code units
     * @param text       the piece, never {@code null}; empty only for the final marker of a completed stream whose
     *                   last piece had already gone out
     * @param contentEnd see {@link StreamEntry#contentEnd()}
     * @param isFinal    whether this is the last {@code message} of a completed stream
     */
    record Delta(DeltaCoalescer.Kind kind, int from, String text, int contentEnd, boolean isFinal)
            implements StreamEntry {

        /** Whether the piece is reasoning rather than answer text. */
        public boolean reasoning() {
            return kind == DeltaCoalescer.Kind.REASONING;
        }
    }

    /**
     * The last entry.
     *
     * @param end        how the stream ended
     * @param messageId  the saved message, or {@code null} where none was saved
     * @param contentEnd see {@link StreamEntry#contentEnd()}
     */
    record Ended(Stream.End end, String messageId, int contentEnd) implements StreamEntry {
    }
}
