package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;
import java.io.StringReader;
import java.util.Map;

/**
 * Reads one OpenAI-compatible {@code chat.completion.chunk} (the {@code data} of one server-sent event)
 * into a {@link ChatChunk}, with JSON-P (a cached {@link JsonParserFactory}).
 *
 * <p>Tolerant of the dialects seen in the wild: reasoning under {@code delta.reasoning_content} (DeepSeek,
 * Qwen) or {@code delta.reasoning} (vLLM, OpenRouter), {@code reasoning_content} winning when both are
 * non-empty; {@code content}, {@code reasoning_content} or {@code role} explicitly {@code null};
 * {@code delta: {}} or no {@code delta}; {@code choices: []} with only {@code usage} (a usage-only chunk);
 * {@code usage} on the finish chunk, absent or {@code null}; {@code finish_reason} {@code null},
 * {@code stop}, {@code length}, ...; {@code content} given as an array of parts ({@code text} parts are
 * content, {@code thinking} parts reasoning, as Mistral sends them); unknown extra fields anywhere
 * ({@code obfuscation}, {@code x_groq}, {@code logprobs}, {@code service_tier}, ...) and any key order.
 * Empty strings become {@code null}.
 *
 * <p>Only the first choice is read: the element of {@code choices} whose {@code index} is 0 or absent
 * (a chunk that only carries other choices contributes no text).
 *
 * <p>An in-stream error, {@code {"error":{"message":"...","type":...}}} or {@code {"error":"text"}},
 * becomes a chunk whose {@link ChatChunk#error()} is the message; the caller decides what to do with it.
 */
public final class ChatChunks {

    /** Cached: {@code Json.createParser} looks the JSON-P provider up on every call. */
    private static final JsonParserFactory PARSERS = JSON.createParserFactory(Map.of());

    private static final String UNPARSEABLE = "upstream sent an unparseable chunk";

    private ChatChunks() {
    }

    /**
     * Parses one chunk. The caller handles the {@code [DONE]} sentinel itself.
     *
     * @param json the JSON text of one {@code chat.completion.chunk}
     * @return what the chunk contributes; all fields {@code null} for a chunk that carries nothing of
     *         interest
     * @throws UpstreamException with {@link FailureCode#UPSTREAM_PROTOCOL} and a fixed message (never the
     *                           upstream's text) when {@code json} is not valid JSON, is not a JSON object,
     *                           or has a {@code choices} member that is neither an array nor {@code null}
     */
    public static ChatChunk parse(String json) {
        JsonObject chunk;
        try (JsonParser parser = PARSERS.createParser(new StringReader(json))) {
            if (!parser.hasNext() || parser.next() != JsonParser.Event.START_OBJECT) {
                throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, UNPARSEABLE);
            }
            chunk = parser.getObject();
            if (parser.hasNext()) { // a reader would silently accept text after the object
                throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, UNPARSEABLE);
            }
        } catch (UpstreamException notAnObject) {
            throw notAnObject;
        } catch (RuntimeException invalid) { // JsonParsingException, JsonException, NPE on null
            throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, UNPARSEABLE);
        }

        String content = null;
        String reasoning = null;
        String finishReason = null;
        JsonObject choice = firstChoice(chunk.get("choices"));
        if (choice != null) {
            finishReason = text(choice.get("finish_reason"));
            if (choice.get("delta") instanceof JsonObject delta) {
                JsonValue contentValue = delta.get("content");
                if (contentValue instanceof JsonArray parts) {
                    StringBuilder text = new StringBuilder();
                    StringBuilder thinking = new StringBuilder();
                    collectParts(parts, text, thinking);
                    content = text.isEmpty() ? null : text.toString();
                    reasoning = thinking.isEmpty() ? null : thinking.toString();
                } else {
                    content = text(contentValue);
                }
                String reasoningContent = text(delta.get("reasoning_content"));
                if (reasoningContent == null) {
                    reasoningContent = text(delta.get("reasoning"));
                }
                if (reasoningContent != null) {
                    reasoning = reasoning == null ? reasoningContent : reasoning + reasoningContent;
                }
            }
        }
        JsonObject usage = chunk.get("usage") instanceof JsonObject u ? u : null;
        return new ChatChunk(content, reasoning, finishReason, usage, text(chunk.get("model")),
                error(chunk.get("error")));
    }

    /** The first choice (index 0 or no index) of a {@code choices} array, or null; throws if not an array. */
    private static JsonObject firstChoice(JsonValue choices) {
        if (choices == null || choices == JsonValue.NULL) {
            return null;
        }
        if (!(choices instanceof JsonArray array)) {
            throw new UpstreamException(FailureCode.UPSTREAM_PROTOCOL, UNPARSEABLE);
        }
        for (JsonValue element : array) {
            if (element instanceof JsonObject choice) {
                JsonValue index = choice.get("index");
                if (index == null || index == JsonValue.NULL
                        || index instanceof JsonNumber n && n.isIntegral() && n.longValue() == 0) {
                    return choice;
                }
            }
        }
        return null;
    }

    /** Content parts: {@code {"type":"text","text":...}} and {@code {"type":"thinking","thinking":[parts]}}. */
    private static void collectParts(JsonArray parts, StringBuilder text, StringBuilder thinking) {
        for (JsonValue element : parts) {
            if (element instanceof JsonString s) {
                text.append(s.getString());
            } else if (element instanceof JsonObject part) {
                String type = text(part.get("type"));
                if ("thinking".equals(type)) {
                    JsonValue inner = part.get("thinking");
                    if (inner instanceof JsonArray innerParts) {
                        collectParts(innerParts, thinking, thinking);
                    } else {
                        String t = text(inner);
                        if (t != null) {
                            thinking.append(t);
                        }
                    }
                } else if (type == null || "text".equals(type)) {
                    String t = text(part.get("text"));
                    if (t != null) {
                        text.append(t);
                    }
                }
            }
        }
    }

    /** The message of an in-stream error member, or null where there is none. */
    private static String error(JsonValue error) {
        if (error instanceof JsonString s) {
            return s.getString().isBlank() ? "the upstream reported an error" : s.getString();
        }
        if (error instanceof JsonObject e) {
            for (String key : new String[] {"message", "type", "code"}) {
                JsonValue v = e.get(key);
                if (v instanceof JsonString s && !s.getString().isBlank()) {
                    return s.getString();
                }
                if (v instanceof JsonNumber n) {
                    return "error " + n;
                }
            }
            return "the upstream reported an error";
        }
        return null;
    }

    /** A non-empty JSON string's value, else null. */
    private static String text(JsonValue value) {
        if (value instanceof JsonString s) {
            String t = s.getString();
            return t.isEmpty() ? null : t;
        }
        return null;
    }
}
