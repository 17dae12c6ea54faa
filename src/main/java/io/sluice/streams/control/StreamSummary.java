package io.sluice.streams.control;

import java.time.Instant;

/**
 * A stream's state without its text (API.md section 3, {@code GET /api/streams}): what a list shows. Made from a
 * stream in memory ({@link #of}) or, for a stream another node generates, from its meta and the last entry of its log
 * in Redis ({@code RemoteSummaries}), without reading the rest of the log.
 *
 * @param id             the stream id
 * @param relatedId      what it is about, or {@code null}
 * @param conversationId its conversation, or {@code null}
 * @param lastEventId    the id of its last entry (0 before any)
 * @param endReason      how it ended ({@link Stream.End#reason()}), or {@code null} while it runs
 * @param messageId      its saved message, or {@code null}
 * @param model          the model it was started with, or {@code null}
 * @param createdAt      when it started
 * @param endedAt        when it ended here, or {@code null}
 * @param followers      its followers on this node
 */
public record StreamSummary(String id, StreamType type, String relatedId, String conversationId, StreamStatus status,
                            long lastEventId, String endReason, String messageId, String model, Instant createdAt,
                            Instant endedAt, int followers) {

    /** The summary of a stream held in memory (generated here, or a mirror): its state now. */
    public static StreamSummary of(Stream s) {
        Stream.End end = s.end();
        return new StreamSummary(s.id(), s.type(), s.relatedId(), s.conversationId(), s.status(), s.lastEventId(),
                end == null ? null : end.reason(), s.messageId(), s.model(), s.createdAt(), s.endedAt(),
                s.followerCount());
    }
}
