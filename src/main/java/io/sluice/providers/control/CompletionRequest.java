package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.util.List;

/**
 * What a generation is asked: the model (or {@code null} to let the provider choose), the system prompt (or
 * {@code null}) and the conversation so far, ending with the user's new message.
 *
 * @param model        model name sent upstream, or {@code null}
 * @param systemPrompt system prompt, or {@code null}
 * @param messages     history then the new message, oldest first; roles {@code user}/{@code assistant}
 * @param task         the stream type that asks ({@code chat}, {@code conversation_title}, ...), or
 *                     {@code null} for a plain chat turn; never sent upstream, it lets the simulated model
 *                     answer in kind
 */
public record CompletionRequest(String model, String systemPrompt, List<ChatMessage> messages, String task) {

    /** A plain chat request. */
    public CompletionRequest(String model, String systemPrompt, List<ChatMessage> messages) {
        this(model, systemPrompt, messages, null);
    }

    /** One message of the request. */
    public record ChatMessage(String role, String content) {
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
            array.add(JSON.createObjectBuilder().add("role", message.role()).add("content", message.content()));
        }
        JsonObjectBuilder body = JSON.createObjectBuilder();
        if (model != null) {
            body.add("model", model);
        }
        return body.add("messages", array)
                .add("stream", true)
                .add("stream_options", JSON.createObjectBuilder().add("include_usage", true))
                .build();
    }
}
