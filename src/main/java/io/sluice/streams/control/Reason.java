package io.sluice.streams.control;

import java.util.Locale;
import java.util.Optional;

/**
 * Why a stream (or an agent run, or a saved answer) ended without completing, as the server itself names it (API.md
 * sections 2, 3 and 13: the {@code reason} of {@code stopped}, a message's {@code endReason}). {@link #wire()} is the
 * JSON value, unchanged from the string literals it replaces. A stop may also carry a reason a client sent (an abort
 * beacon's {@code reason}, at most {@code StreamTarget.MAX_REASON} chars) and an error carries its code, so
 * {@link Stream.End#reason()} stays the wire string; {@link #fromWire} reads it back.
 */
public enum Reason {
    /** A stop by the user (API.md section 3, stop and abort). */
    USER,
    /** A beacon abort on page unload that no reload cancelled. */
    UNLOAD,
    /** Nobody followed the stream for the resume grace period (or an OpenAI client hung up). */
    CLIENT_DISCONNECTED,
    /** The server stopped. */
    SERVER_SHUTDOWN,
    /** The node that generated it was lost, and another node closed its record (issue 10, {@link Takeovers}). */
    NODE_LOST,
    /**
     * The server crashed while it ran, and its next start closed it: written in SQL at start-up by
     * {@code io.sluice.platform.control.Database} as {@code Database.CRASHED}, the same wire value.
     */
    SERVER_CRASHED;

    /** @return the JSON value: {@code user}, {@code unload}, {@code client_disconnected}, ... */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The reason with this JSON value.
     *
     * @param s the value, matched exactly (lower case), or {@code null}
     * @return the reason, or empty when {@code s} is {@code null}, a client's own reason or an error code
     */
    public static Optional<Reason> fromWire(String s) {
        if (s == null) {
            return Optional.empty();
        }
        for (Reason reason : values()) {
            if (reason.wire().equals(s)) {
                return Optional.of(reason);
            }
        }
        return Optional.empty();
    }
}
