package io.sluice.openai.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.identity.control.Owners;
import io.sluice.openai.control.ChunkEdge;
import io.sluice.openai.control.Completions;
import io.sluice.openai.control.OpenAiError;
import io.sluice.openai.control.OpenAiRequest;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.Ids;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.ProblemException;
import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import io.sluice.streams.control.Followers;
import io.sluice.streams.control.Pump;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import jakarta.inject.Inject;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /v1}, the OpenAI-compatible API (API.md section 8):
 * <ul>
 *   <li>{@code POST /v1/chat/completions}: a chat completion as a hub stream of type {@code completion}. With
 *       {@code "stream": true}, {@code chat.completion.chunk} events then {@code data: [DONE]} ({@link ChunkEdge},
 *       through the {@link Followers}' guarded connection); otherwise one {@code chat.completion} object once the
 *       stream has ended (a {@link Pump} follows its log: no thread waits). The stream's id is in
 *       {@code X-Sluice-Stream-Id}.</li>
 *   <li>{@code GET /v1/models}, {@code GET /v1/models/{id}}: the routes (API.md section 10) in OpenAI's list and
 *       model shapes.</li>
 * </ul>
 * Every error is OpenAI's {@code {"error":{"message","type","param","code"}}} ({@link OpenAiError}), with the status
 * codes of section 7: 400 for a malformed body or an unknown model, 401 for a missing or unknown API key
 * ({@code ApiKeyFilter}), 404 for an unknown path or model, 405, 413, 415, 429 and 503 at the caps; a generation that
 * fails before its first output is answered with its own status (see {@link OpenAiError#of(Stream.End)}).
 */
@WebServlet(urlPatterns = "/v1/*", asyncSupported = true)
public class OpenAiServlet extends HttpServlet {

    private static final Logger LOG = Logger.getLogger(OpenAiServlet.class.getName());
    /** The response header that names the completion's stream (API.md section 8). */
    public static final String STREAM_ID_HEADER = "X-Sluice-Stream-Id";
    private static final String COMPLETIONS = "/chat/completions";
    private static final String MODELS = "/models";

    @Inject
    JsonBodies bodies;
    @Inject
    Completions completions;
    @Inject
    Followers followers;
    @Inject
    Providers providers;
    @Inject
    ManagedExecutors executors;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "" : request.getPathInfo();
        String method = request.getMethod();
        try {
            if (path.equals(COMPLETIONS)) {
                requireMethod(method, "POST");
                complete(request, response);
            } else if (path.equals(MODELS)) {
                requireMethod(method, "GET");
                write(response, 200, models());
            } else if (path.startsWith(MODELS + "/") && path.length() > MODELS.length() + 1) {
                requireMethod(method, "GET");
                write(response, 200, model(path.substring(MODELS.length() + 1)));
            } else {
                throw new ProblemException(404, "unknown-url", "unknown request URL: " + method + " /v1" + path);
            }
        } catch (ProblemException e) {
            write(response, OpenAiError.of(e), null);
        } catch (RuntimeException e) {
            String incident = Ids.newId();
            LOG.log(Level.SEVERE, "unexpected failure at /v1, incident " + incident, e);
            write(response, OpenAiError.internal(incident), null);
        }
    }

    private static void requireMethod(String method, String allowed) {
        if (!allowed.equals(method)) {
            throw new ProblemException(405, "method-not-allowed", method + " is not allowed here; use " + allowed);
        }
    }

    private void complete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String contentType = request.getContentType();
        if (contentType == null || !contentType.toLowerCase().startsWith("application/json")) {
            throw new ProblemException(415, "unsupported-media-type",
                    "unsupported media type: send Content-Type: application/json");
        }
        OpenAiRequest input = OpenAiRequest.parse(bodies.readObject(request.getInputStream()));
        String owner = Owners.of(request);
        if (input.stream()) {
            followers.ensureRoomFor(owner); // before the stream starts: a refusal changes nothing
        }
        Completions.Started started = completions.start(owner, input);
        Stream stream = started.stream();
        long created = Instant.now().getEpochSecond();
        AsyncContext async = request.startAsync();
        async.setTimeout(0); // the stream's own limits end it (SLUICE_STREAM_MAX_SECONDS)
        if (input.stream()) {
            ServletEventSink sink = new ServletEventSink(async, response, stream.id());
            try {
                followers.follow(owner, stream, new ChunkEdge(stream.id(), created, started.model(),
                        input.includeUsage(), sink), sink);
            } catch (ProblemException e) {
                // the connection cap was reached meanwhile: nobody will read this stream
                stream.stop(Reason.CLIENT_DISCONNECTED, MessageStatus.PARTIAL);
                sink.answer(OpenAiError.of(e));
                sink.close();
            }
        } else {
            Answer answer = new Answer(stream, started.model(), created, async, response);
            async.addListener(new Gone(answer::close));
            stream.follow(answer);
        }
    }

    /**
     * A non-streamed completion: follows the stream's log until its terminal entry, then answers once, on the
     * writers' executor, with the {@code chat.completion} object or the error. Holds no thread while it waits. The
     * answer is written through a {@link ServletEventSink}: not once the container has ended the response (the client
     * left).
     */
    private final class Answer extends Pump {
        private final Stream stream;
        private final String model;
        private final long created;
        private final ServletEventSink sink;

        Answer(Stream stream, String model, long created, AsyncContext async, HttpServletResponse response) {
            super(executors.writers());
            this.stream = stream;
            this.model = model;
            this.created = created;
            this.sink = new ServletEventSink(async, response, stream.id());
        }

        @Override
        protected void pump() {
            if (stream.terminated() && close()) {
                Stream.End end = stream.end();
                OpenAiError error = OpenAiError.of(end);
                if (error != null) {
                    sink.answer(error);
                } else {
                    sink.answer(response -> {
                        response.setHeader(STREAM_ID_HEADER, stream.id());
                        write(response, 200, Completions.completion(stream, end, model, created));
                    });
                }
                sink.close();
            }
        }

        @Override
        protected void closed() {
            stream.unfollow(this);
        }
    }

    /** Tells when the container ends the response (the client left, an error): the answer stops following. */
    private record Gone(Runnable then) implements AsyncListener {
        @Override
        public void onComplete(AsyncEvent event) {
            then.run();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            then.run();
        }

        @Override
        public void onError(AsyncEvent event) {
            then.run();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }

    /** {@code {"object":"list","data":[model, ...]}}: the routes; without routes, the default model if any. */
    private JsonObject models() {
        JsonArrayBuilder data = JSON.createArrayBuilder();
        List<String> names = new ArrayList<>();
        if (providers.routed()) {
            for (Route route : providers.routes()) {
                names.add(route.name());
            }
        } else if (providers.effectiveModel(null) != null) {
            names.add(providers.effectiveModel(null));
        }
        for (String name : names) {
            data.add(modelObject(name));
        }
        return JSON.createObjectBuilder().add("object", "list").add("data", data).build();
    }

    private JsonObject model(String id) {
        boolean listed = providers.routed() ? providers.routes().stream().anyMatch(r -> r.name().equals(id))
                : providers.known(id);
        if (!listed) {
            throw new ProblemException(404, "unknown-model", "the model \"" + id + "\" does not exist");
        }
        return modelObject(id);
    }

    private static JsonObject modelObject(String name) {
        return JSON.createObjectBuilder().add("id", name).add("object", "model").add("created", 0)
                .add("owned_by", "sluice").build();
    }

    /** Writes a JSON answer. */
    static void write(HttpServletResponse response, int status, JsonObject json) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.getOutputStream().write(json.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Writes an error answer, with {@code Retry-After}, {@code X-Should-Retry} and the stream's id when known. */
    static void write(HttpServletResponse response, OpenAiError error, String streamId) throws IOException {
        if (error.retryAfterSeconds() != null) {
            response.setHeader("Retry-After", Long.toString(error.retryAfterSeconds()));
        }
        if (error.retry() != null) {
            response.setHeader("X-Should-Retry", error.retry().toString());
        }
        if (streamId != null) {
            response.setHeader(STREAM_ID_HEADER, streamId);
        }
        write(response, error.status(), error.json());
    }
}
