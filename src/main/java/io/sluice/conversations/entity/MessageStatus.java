package io.sluice.conversations.entity;

/** How a message ended (API.md section 2); {@link #value()} is the lower-case wire and column value. */
public enum MessageStatus {
    /** The upstream finished (user messages are always completed). */
    COMPLETED,
    /** Stopped by the user. */
    STOPPED,
    /** The upstream or Sluice failed; the text so far is kept. */
    ERROR,
    /** Cut off, e.g. because the client went away; the text so far is kept. */
    PARTIAL;

    public String value() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
