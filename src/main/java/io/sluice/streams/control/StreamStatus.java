package io.sluice.streams.control;

/** Status of a stream (API.md section 3); {@link #wire()} is the JSON value. */
public enum StreamStatus {
    /** Created; no output from the model yet. */
    CONNECTING,
    /** The model is producing output. */
    STREAMING,
    /** Ended normally ({@code done}). */
    COMPLETED,
    /** Ended by a failure ({@code error}). */
    ERROR,
    /** Ended by a stop, an abort or abandonment ({@code stopped}). */
    STOPPED;

    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether the stream has ended. */
    public boolean ended() {
        return this == COMPLETED || this == ERROR || this == STOPPED;
    }
}
