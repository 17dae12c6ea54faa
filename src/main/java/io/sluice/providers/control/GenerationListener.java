package io.sluice.providers.control;

import jakarta.json.JsonObject;

/**
 * Receives one generation's output from a {@link ChatProvider}. Calls may come from different threads but
 * never at the same time for one generation; after a terminal call ({@link #onComplete} or
 * {@link #onFailure}), or after {@link Generation#cancel()}, a provider makes no further call except in a
 * race with cancellation, which listeners must tolerate by ignoring late calls.
 */
public interface GenerationListener {

    /**
     * Text produced by the model; at least one argument is non-null and non-empty.
     *
     * @param content   answer text to append, or {@code null}
     * @param reasoning reasoning text to append, or {@code null}
     */
    void onDelta(String content, String reasoning);

    /**
     * The generation finished normally.
     *
     * @param finishReason the last finish reason ({@code stop}, {@code length}, ...), or {@code null}
     * @param usage        the last usage object as the upstream sent it, or {@code null}
     * @param model        the model that answered as the upstream named it, or {@code null}
     */
    void onComplete(String finishReason, JsonObject usage, String model);

    /** The generation failed; the text delivered so far stands. */
    void onFailure(UpstreamException failure);

    /**
     * Where the provider keeps the raw record of this generation's upstream response (seed 002's {@code raw_response},
     * API.md section 13): each event's data with its arrival time, bounded by {@code SLUICE_RAW_MAX_BYTES}. Asked once,
     * when the upstream request is sent; a provider with no upstream (the simulated model) never asks. A listener that
     * wraps another must pass this on.
     *
     * @return the record to fill, or {@code null} (the default) to keep none
     */
    default RawCapture rawCapture() {
        return null;
    }
}
