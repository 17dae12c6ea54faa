package io.sluice.openai.control;

/**
 * The part of an event-stream response that can still become a plain error response: as long as nothing was written
 * (no chunk, no heartbeat), the status line is open.
 */
public interface EarlyAnswer {

    /**
     * Answers with {@code error}'s status and JSON object instead of an event stream, if nothing was written yet.
     *
     * @return whether it did; {@code false} when the event stream has begun (the error then goes into the stream)
     */
    boolean answer(OpenAiError error);
}
