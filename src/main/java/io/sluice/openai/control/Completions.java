package io.sluice.openai.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamSpec;
import io.sluice.streams.control.StreamType;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.util.List;

/**
 * Starts OpenAI-compatible chat completions (API.md section 8) as hub streams of type {@code completion}, and writes
 * the {@code chat.completion} object of one that ended. The upstream is always called with streaming, whatever the
 * client asked (seed: forced streaming, so long answers never hit a proxy's read timeout).
 */
@ApplicationScoped
public class Completions {

    @Inject
    StreamHub hub;
    @Inject
    Providers providers;

    /** A started completion: its stream and the model its answer names (the route's). */
    public record Started(Stream stream, String model) {
    }

    /**
     * Starts a completion: the request's model is routed (API.md section 10), the stream is admitted and recorded,
     * and the upstream called with the client's messages and sampling fields.
     *
     * @throws ProblemException 400 for an unknown model, 429 or 503 at a stream cap; nothing started then
     */
    public Started start(String owner, OpenAiRequest input) {
        Route route = providers.resolve(input.model(), StreamType.COMPLETION);
        // no task: the simulated model answers it as a chat turn
        CompletionRequest request = new CompletionRequest(route.upstreamModel(), null, input.messages(), null,
                input.options());
        String model = route.model() != null ? route.model() : input.model() != null ? input.model() : route.name();
        Stream stream = hub.start(owner, StreamSpec.of(Ids.newId(), StreamType.COMPLETION, null, null, route),
                listener -> route.stream(request, listener), JSON.createObjectBuilder().build(),
                StreamHub.Outcome.NONE);
        return new Started(stream, model);
    }

    /**
     * The {@code chat.completion} object of a completed stream: {@code {"id":"chatcmpl-…","object":"chat.completion",
     * "created","model","choices":[{"index":0,"message":{"role":"assistant","content","refusal":null,
     * "reasoning_content"?},"logprobs":null,"finish_reason"}],"usage"?}}; {@code reasoning_content} only when there
     * was reasoning, {@code usage} only when the upstream gave it.
     */
    public static JsonObject completion(Stream stream, Stream.End end, String model, long created) {
        JsonObjectBuilder message = JSON.createObjectBuilder().add("role", "assistant")
                .add("content", stream.content()).addNull("refusal");
        String reasoning = stream.reasoning();
        if (!reasoning.isEmpty()) {
            message.add("reasoning_content", reasoning);
        }
        JsonObjectBuilder completion = JSON.createObjectBuilder()
                .add("id", "chatcmpl-" + stream.id())
                .add("object", "chat.completion")
                .add("created", created)
                .add("model", model == null ? "" : model)
                .add("choices", JSON.createArrayBuilder(List.of()).add(JSON.createObjectBuilder()
                        .add("index", 0)
                        .add("message", message)
                        .addNull("logprobs")
                        .add("finish_reason", end.finishReason() == null ? "stop" : end.finishReason())));
        if (end.usage() != null) {
            completion.add("usage", end.usage());
        }
        return completion.build();
    }
}
