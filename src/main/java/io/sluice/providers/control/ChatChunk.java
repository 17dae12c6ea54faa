package io.sluice.providers.control;

import jakarta.json.JsonObject;

/**
 * What one {@code chat.completion.chunk} contributes to a generation (first choice only).
 *
 * @param content      text to append to the answer, or {@code null} (absent, JSON null or empty string all
 *                     become {@code null})
 * @param reasoning    text to append to the reasoning ({@code delta.reasoning_content}, else
 *                     {@code delta.reasoning}), or {@code null}
 * @param finishReason {@code choices[0].finish_reason} when non-null ({@code stop}, {@code length}, ...),
 *                     else {@code null}
 * @param usage        the chunk's top-level {@code usage} object when it is a non-null object, else
 *                     {@code null}
 * @param model        the chunk's {@code model}, or {@code null}
 * @param error        the message of an in-stream {@code {"error":{...}}} object, or {@code null}
 */
public record ChatChunk(String content, String reasoning, String finishReason, JsonObject usage, String model,
                        String error) {
}
