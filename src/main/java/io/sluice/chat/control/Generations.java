package io.sluice.chat.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.Conversation;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamSpec;
import io.sluice.streams.control.StreamStatus;
import io.sluice.streams.control.StreamType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.util.List;

/**
 * One-shot generations (API.md section 9): a prompt, an optional system prompt and model, no conversation. Each is a
 * hub stream of type {@code generate} (admitted, guarded, retained, recorded with its text), and the upstream is
 * always streamed, whatever shape the client wants its answer in.
 */
@ApplicationScoped
public class Generations {

    /** Longest prompt, in UTF-16 code units (besides the request's byte limit). */
    public static final int MAX_PROMPT = 100_000;

    @Inject
    StreamHub hub;
    @Inject
    Providers providers;

    /**
     * Starts a generation.
     *
     * @param model a route's name or a type name (API.md section 10), or {@code null} for the {@code instruct} default
     * @throws ProblemException 400 for a blank prompt, an over-long field or an unknown model; 429 or 503 at a cap
     */
    public Stream start(String owner, String prompt, String model, String systemPrompt) {
        if (prompt == null || prompt.isBlank()) {
            throw ProblemException.badRequest("prompt is required and must not be blank");
        }
        if (prompt.length() > MAX_PROMPT) {
            throw ProblemException.badRequest("prompt is longer than " + MAX_PROMPT + " characters");
        }
        String requested = JsonBodies.optional(model, "model", Conversation.MAX_MODEL);
        String system = JsonBodies.optional(systemPrompt, "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        Route route = providers.resolve(requested, StreamType.GENERATE);
        CompletionRequest request = new CompletionRequest(route.upstreamModel(), system,
                List.of(new CompletionRequest.ChatMessage("user", prompt)));
        return hub.start(owner, StreamSpec.of(Ids.newId(), StreamType.GENERATE, null, null, route),
                listener -> route.stream(request, listener), JSON.createObjectBuilder().build(),
                StreamHub.Outcome.NONE);
    }

    /**
     * The JSON answer of an ended generation: {@code {"streamId","text","reasoning","finishReason","usage","status",
     * "endReason","model"}}, where {@code status} is {@code completed}, {@code error} or {@code stopped} and
     * {@code endReason} the error code or stop reason; a failed one adds {@code "error":{"code","message"}}.
     */
    public static JsonObject answer(Stream stream) {
        Stream.End end = stream.end();
        JsonObjectBuilder json = JSON.createObjectBuilder()
                .add("streamId", stream.id())
                .add("text", stream.content())
                .add("reasoning", stream.reasoning())
                .add("finishReason", text(end.finishReason()))
                .add("usage", end.usage() == null ? JsonValue.NULL : end.usage())
                .add("status", end.status().wire())
                .add("endReason", text(end.reason()))
                .add("model", text(end.model() != null ? end.model() : stream.model()));
        if (end.status() == StreamStatus.ERROR) {
            json.add("error", JSON.createObjectBuilder().add("code", end.failure().code().name())
                    .add("message", end.failure().getMessage()));
        }
        return json.build();
    }

    private static JsonValue text(String value) {
        return value == null ? JsonValue.NULL : JSON.createValue(value);
    }
}
