package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.util.List;
import java.util.Set;

/**
 * What a generation is asked: the model (or {@code null} to let the provider choose), the system prompt (or
 * {@code null}) and the conversation so far, ending with the user's new message.
 *
 * @param model        model name sent upstream, or {@code null}
 * @param systemPrompt system prompt, or {@code null}
 * @param messages     history then the new message, oldest first; roles {@code user}/{@code assistant} (and, for
 *                     {@code /v1} requests, {@code system}, {@code developer}, {@code tool})
 * @param task         the stream type that asks ({@code chat}, {@code conversation_title}, ...), or
 *                     {@code null} for a plain chat turn; never sent upstream, it lets the simulated model
 *                     answer in kind
 * @param options      more top-level fields of the upstream body, sent as they are (the sampling fields of a
 *                     {@code /v1} request: {@code temperature}, {@code max_tokens}, ...), or {@code null}; they never
 *                     override {@code model}, {@code messages}, {@code stream} or {@code stream_options}
 */
public record CompletionRequest(String model, String systemPrompt, List<ChatMessage> messages, String task,
                                JsonObject options) {

    /** Fields of the upstream body that {@link #options} never set. */
    private static final Set<String> RESERVED = Set.of("model", "messages", "stream", "stream_options");

    /** A request without extra upstream fields. */
    public CompletionRequest(String model, String systemPrompt, List<ChatMessage> messages, String task) {
        this(model, systemPrompt, messages, task, null);
    }

    /** A plain chat request. */
    public CompletionRequest(String model, String systemPrompt, List<ChatMessage> messages) {
        this(model, systemPrompt, messages, null, null);
    }

    /**
     * One message of the request.
     *
     * @param content its text (for a message whose content is an array of parts, the text parts joined), never
     *                {@code null}
     * @param raw     the message as a client sent it ({@code /v1}), sent upstream as it is; or {@code null} to send
     *                {@code {"role","content"}}
     */
    public record ChatMessage(String role, String content, JsonObject raw) {

        /** A message sent upstream as {@code {"role","content"}}. */
        public ChatMessage(String role, String content) {
            this(role, content, null);
        }
    }

    /** The same request with another upstream model. */
    public CompletionRequest withModel(String upstreamModel) {
        return new CompletionRequest(upstreamModel, systemPrompt, messages, task, options);
    }

    /** The text of the last user message, or the empty string. */
    public String lastUserMessage() {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if ("user".equals(messages.get(i).role())) {
                return messages.get(i).content();
            }
        }
        return "";
    }

    /**
     * The OpenAI {@code POST /chat/completions} body for this request, streaming with
     * {@code stream_options.include_usage} so that the usage arrives in the stream.
     */
    public JsonObject toOpenAiJson() {
        JsonArrayBuilder array = JSON.createArrayBuilder();
        if (systemPrompt != null && !systemPrompt.isBlank()) {
            array.add(JSON.createObjectBuilder().add("role", "system").add("content", systemPrompt));
        }
        for (ChatMessage message : messages) {
            if (message.raw() != null) {
                array.add(message.raw());
            } else {
                array.add(JSON.createObjectBuilder().add("role", message.role()).add("content", message.content()));
            }
        }
        JsonObjectBuilder body = JSON.createObjectBuilder();
        if (options != null) {
            options.forEach((key, value) -> {
                if (!RESERVED.contains(key)) {
                    body.add(key, value);
                }
            });
        }
        if (model != null) {
            body.add("model", model);
        }
        return body.add("messages", array)
                .add("stream", true)
                .add("stream_options", JSON.createObjectBuilder().add("include_usage", true))
                .build();
    }
}
