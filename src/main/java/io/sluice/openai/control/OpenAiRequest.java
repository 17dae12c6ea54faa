package io.sluice.openai.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest.ChatMessage;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An OpenAI Chat Completions request (API.md section 8), checked: what Sluice reads from it and what it forwards.
 *
 * <ul>
 *   <li>{@code model}: a route's name or a type name (API.md section 10); optional (the {@code instruct} default).</li>
 *   <li>{@code messages}: a non-empty array of objects with a {@code role} of {@code system}, {@code developer},
 *       {@code user}, {@code assistant} or {@code tool}, and a {@code content} that is a string, an array of parts or
 *       {@code null}. Each message is sent upstream as the client wrote it.</li>
 *   <li>{@code stream}, {@code stream_options.include_usage}: booleans.</li>
 *   <li>The sampling fields ({@link #FORWARDED}) are sent upstream untouched; the upstream checks their values.</li>
 *   <li>{@code n} other than 1, and non-empty {@code tools} or {@code functions}, are refused: one stream is one
 *       choice, and Sluice relays text, not tool calls.</li>
 *   <li>Any other field is ignored.</li>
 * </ul>
 *
 * @param model        the requested model, or {@code null}
 * @param messages     the messages, each with its text (text parts joined) and the raw object sent upstream
 * @param stream       whether the answer is an event stream
 * @param includeUsage whether a streamed answer ends with a usage chunk
 * @param options      the forwarded fields, possibly empty
 */
public record OpenAiRequest(String model, List<ChatMessage> messages, boolean stream, boolean includeUsage,
                            JsonObject options) {

    /** Fields sent upstream as they are. */
    public static final Set<String> FORWARDED = Set.of("temperature", "top_p", "max_tokens",
            "max_completion_tokens", "stop", "presence_penalty", "frequency_penalty", "seed", "logit_bias", "user",
            "response_format", "reasoning_effort", "verbosity", "top_k", "min_p", "repetition_penalty");

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    /** Longest model name, in UTF-16 code units (the {@code model} column). */
    static final int MAX_MODEL = 200;

    /**
     * @throws ProblemException 400 for a body that breaks the rules above
     */
    public static OpenAiRequest parse(JsonObject body) {
        String model = null;
        JsonValue m = body.get("model");
        if (m != null && m.getValueType() != JsonValue.ValueType.NULL) {
            if (!(m instanceof JsonString s) || s.getString().isBlank()) {
                throw ProblemException.badRequest("model must be a non-empty string");
            }
            model = s.getString().strip();
            if (model.length() > MAX_MODEL) {
                throw ProblemException.badRequest("model is longer than " + MAX_MODEL + " characters");
            }
        }
        if (!(body.get("messages") instanceof JsonArray array) || array.isEmpty()) {
            throw ProblemException.badRequest("messages must be a non-empty array");
        }
        List<ChatMessage> messages = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            messages.add(message(array.get(i), i));
        }
        boolean stream = bool(body, "stream");
        boolean includeUsage = false;
        JsonValue so = body.get("stream_options");
        if (so != null && so.getValueType() != JsonValue.ValueType.NULL) {
            if (!(so instanceof JsonObject options)) {
                throw ProblemException.badRequest("stream_options must be an object");
            }
            includeUsage = bool(options, "include_usage");
        }
        if (body.get("n") instanceof JsonNumber n && n.doubleValue() != 1) {
            throw ProblemException.badRequest("n must be 1: a stream answers with one choice");
        }
        for (String tools : List.of("tools", "functions")) {
            if (body.get(tools) instanceof JsonArray list && !list.isEmpty()) {
                throw ProblemException.badRequest(tools + " are not supported: Sluice relays text, not tool calls");
            }
        }
        JsonObjectBuilder options = JSON.createObjectBuilder();
        for (String key : FORWARDED) {
            JsonValue value = body.get(key);
            if (value != null && value.getValueType() != JsonValue.ValueType.NULL) {
                options.add(key, value);
            }
        }
        return new OpenAiRequest(model, List.copyOf(messages), stream, includeUsage, options.build());
    }

    private static ChatMessage message(JsonValue value, int index) {
        String where = "messages[" + index + "]";
        if (!(value instanceof JsonObject object)) {
            throw ProblemException.badRequest(where + " must be an object");
        }
        if (!(object.get("role") instanceof JsonString role) || !ROLES.contains(role.getString())) {
            throw ProblemException.badRequest(where + ".role must be one of system, developer, user, assistant, "
                    + "tool");
        }
        JsonValue content = object.get("content");
        String text;
        if (content == null || content.getValueType() == JsonValue.ValueType.NULL) {
            text = "";
        } else if (content instanceof JsonString s) {
            text = s.getString();
        } else if (content instanceof JsonArray parts) {
            StringBuilder joined = new StringBuilder();
            for (JsonValue part : parts) {
                if (!(part instanceof JsonObject p)) {
                    throw ProblemException.badRequest(where + ".content parts must be objects");
                }
                if (p.get("text") instanceof JsonString t) {
                    joined.append(joined.isEmpty() ? "" : "\n").append(t.getString());
                }
            }
            text = joined.toString();
        } else {
            throw ProblemException.badRequest(where + ".content must be a string, an array of parts or null");
        }
        return new ChatMessage(role.getString(), text, object);
    }

    private static boolean bool(JsonObject object, String key) {
        JsonValue value = object.get(key);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            return false;
        }
        if (value.getValueType() == JsonValue.ValueType.TRUE) {
            return true;
        }
        if (value.getValueType() == JsonValue.ValueType.FALSE) {
            return false;
        }
        throw ProblemException.badRequest(key + " must be a boolean");
    }
}
