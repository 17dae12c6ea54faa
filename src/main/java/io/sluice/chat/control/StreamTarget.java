package io.sluice.chat.control;

import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.Reason;

/**
 * What a resume ({@code POST /api/chat/resume}) or a beacon abort ({@code POST /api/chat/abort}) names: one stream
 * by {@code streamId} (API.md section 3, the canonical form), or a conversation by {@code conversationId} (section 13:
 * the shapes of seed 001, whose resume checkpoint and unload beacon carry the conversation only). A body that names
 * both is read by its {@code streamId}, which names exactly one stream; its {@code conversationId} is then ignored.
 * Blank values count as absent.
 *
 * @param streamId       the stream, or {@code null} when the conversation is named
 * @param conversationId the conversation, or {@code null} when a stream is named
 */
public record StreamTarget(String streamId, String conversationId) {

    /** Longest abort reason, in UTF-16 code units. */
    public static final int MAX_REASON = 64;
    /** The reason of a beacon sent on page unload: it waits the unload grace for a reload (API.md section 3). */
    public static final String UNLOAD = Reason.UNLOAD.wire();
    /** The reason of an abort by {@code streamId} that gives none (the canonical form's default, kept). */
    public static final String USER = Reason.USER.wire();

    /**
     * @param streamId       from the body, or {@code null}
     * @param conversationId from the body, or {@code null}
     * @return the stream when {@code streamId} is given (stripped), else the conversation (stripped)
     * @throws ProblemException 400 when neither is given
     */
    public static StreamTarget of(String streamId, String conversationId) {
        String stream = present(streamId);
        if (stream != null) {
            return new StreamTarget(stream, null);
        }
        String conversation = present(conversationId);
        if (conversation != null) {
            return new StreamTarget(null, conversation);
        }
        throw ProblemException.badRequest("streamId (or conversationId) is required");
    }

    /** Whether the conversation is named (the seeds' form), not a stream. */
    public boolean byConversation() {
        return conversationId != null;
    }

    /**
     * The reason of an abort of this target: the given one, stripped; without one, {@value #UNLOAD} for a
     * conversation (seed 001's beacon, sent on page unload, carries no reason) and {@value #USER} for a stream (as
     * section 3's abort has always done).
     *
     * @param given the body's {@code reason}, or {@code null}
     * @throws ProblemException 400 when the reason is longer than {@value #MAX_REASON} characters
     */
    public String abortReason(String given) {
        String reason = present(given);
        if (reason == null) {
            return byConversation() ? UNLOAD : USER;
        }
        if (reason.length() > MAX_REASON) {
            throw ProblemException.badRequest("reason is longer than " + MAX_REASON + " characters");
        }
        return reason;
    }

    private static String present(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
