package io.sluice.chat.boundary;

import io.sluice.chat.control.Generations;
import io.sluice.identity.control.Owners;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.streams.boundary.ApiEventSink;
import io.sluice.streams.control.Followers;
import io.sluice.streams.control.Pump;
import io.sluice.streams.control.Stream;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;

/**
 * {@code POST /api/generate} (API.md section 9): one generation with no conversation, body
 * {@code {"prompt","model","systemPrompt"}}, always streamed from the upstream. With {@code Accept: text/event-stream}
 * the answer is the event stream of section 2 (its first event, {@code stream}, has {@code type: "generate"});
 * otherwise one JSON object once the generation has ended ({@link Generations#answer}), with the stream's id also in
 * {@code X-Sluice-Stream-Id}. Bad requests are refused with {@code application/problem+json} before anything starts.
 */
@Path("generate")
public class GenerateResource {

    @Inject
    JsonBodies bodies;
    @Inject
    Generations generations;
    @Inject
    Followers followers;
    @Inject
    ManagedExecutors executors;
    @Context
    HttpServletRequest request;

    /**
     * Body of {@code POST /api/generate}.
     *
     * @param prompt       the text to answer, required
     * @param model        a route's name or a type name, optional
     * @param systemPrompt optional
     */
    public record Generate(String prompt, String model, String systemPrompt) {
    }

    /** The event-stream answer; chosen by {@code Accept: text/event-stream}. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces("text/event-stream;qs=0.5")
    public void stream(InputStream body, @QueryParam("clientId") String clientId,
                       @HeaderParam("X-Sluice-Client-Id") String clientIdHeader, @Context SseEventSink sink,
                       @Context Sse sse) {
        Generate input = bodies.read(body, Generate.class);
        String owner = Owners.of(request);
        followers.ensureRoomFor(owner);
        Stream stream = generations.start(owner, input.prompt(), input.model(), input.systemPrompt());
        followers.follow(owner, stream, Stream.Resumption.after(0), clientId != null ? clientId : clientIdHeader,
                new ApiEventSink(sink, sse, request));
    }

    /**
     * The JSON answer, the default: answered when the stream has ended, by a {@link Pump} that follows its log (no
     * thread waits meanwhile); always 200, the generation's outcome is its {@code status}.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces("application/json;qs=1")
    public void json(InputStream body, @Suspended AsyncResponse response) {
        Generate input = bodies.read(body, Generate.class);
        Stream stream = generations.start(Owners.of(request), input.prompt(), input.model(), input.systemPrompt());
        Pump answer = new Pump(executors.writers()) {
            @Override
            protected void pump() {
                if (stream.terminated() && close()) {
                    response.resume(Response.ok(Generations.answer(stream), MediaType.APPLICATION_JSON_TYPE)
                            .header("X-Sluice-Stream-Id", stream.id()).build());
                }
            }

            @Override
            protected void closed() {
                stream.unfollow(this);
            }
        };
        stream.follow(answer);
    }
}
