package io.sluice.streams.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.entity.Conversation;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.identity.control.Owners;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.Delivery;
import io.sluice.streams.control.Followers;
import io.sluice.streams.control.Pump;
import io.sluice.streams.control.Reason;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamEntry;
import io.sluice.streams.control.StreamEvent;
import io.sluice.streams.control.StreamHub;
import io.sluice.streams.control.StreamObserver;
import io.sluice.streams.control.StreamRecords;
import io.sluice.streams.control.StreamStarter;
import io.sluice.streams.control.StreamType;
import io.sluice.streams.entity.StreamRecord;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.AsyncResponse;
import jakarta.ws.rs.container.Suspended;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code /api/streams} (API.md section 3): create typed streams, follow them over SSE from any position,
 * read their state or poll them, list the running ones, stop them. Someone else's stream is answered 404
 * like a missing one (section 6).
 */
@Path("streams")
public class StreamsResource {

    /** Longest wait of a poll, in seconds. */
    static final int MAX_WAIT_SECONDS = 30;
    /** Most events returned by one poll. */
    static final int POLL_BATCH = 256;
    /** The 400's detail for a {@code type} that {@code POST /api/streams} does not create. */
    static final String UNKNOWN_TYPE = "type must be one of chat, conversation_title, topic_title, "
            + "prompt_optimization, system_prompt (or conversation_title_generation, topic_title_generation; agent "
            + "streams start over /ws/agents, completion streams at /v1/chat/completions, generate streams at "
            + "/api/generate)";

    @Inject
    StreamHub hub;
    /** Who starts each type's streams: chat's {@code ChatStarter} for every creatable type. */
    @Inject
    @Any
    Instance<StreamStarter> starters;
    @Inject
    Followers followers;
    @Inject
    StreamRecords records;
    @Inject
    ConversationStore conversations;
    @Inject
    JsonBodies bodies;
    @Inject
    ManagedExecutors executors;
    @Inject
    StreamObserver metrics;
    @Context
    HttpServletRequest request;

    /**
     * Body of {@code POST /api/streams}.
     *
     * @param type           {@code chat}, {@code conversation_title}, {@code topic_title},
     *                       {@code prompt_optimization} or {@code system_prompt}; or seed 003's aliases
     *                       {@code conversation_title_generation} and {@code topic_title_generation}
     *                       ({@link StreamType#named})
     * @param relatedId      what the stream is about (for {@code conversation_title}, the conversation)
     * @param conversationId for {@code chat}, the conversation (omitted: a new one)
     * @param message        for {@code chat}, the user's text
     * @param input          for the typed tasks, their text
     * @param model          optional model name
     * @param systemPrompt   for {@code chat}, overrides the conversation's system prompt
     * @param metadata       for {@code system_prompt}, {@code name}
     */
    public record NewStream(String type, String relatedId, String conversationId, String message, String input,
                            String model, String systemPrompt, Map<String, String> metadata) {
    }

    /** Creates a stream: 201 {@code {"streamId","type","relatedId","status","eventsUrl"}} and {@code Location}. */
    @Operation(summary = "Create a typed stream (API.md section 3)")
    @Tag(name = "Streams")
    @APIResponse(responseCode = "201", description = "Created", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "413", ref = "TooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "429", ref = "TooMany")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response create(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(ref = "NewStream"))) InputStream body, @Context UriInfo uri) {
        NewStream input = bodies.read(body, NewStream.class);
        // seed 003's conversation_title_generation and topic_title_generation are aliases (API.md section 13)
        StreamType type = StreamType.named(input.type()).filter(StreamType::creatable)
                .orElseThrow(() -> ProblemException.badRequest(UNKNOWN_TYPE));
        String owner = Owners.of(request);
        String model = JsonBodies.optional(input.model(), "model", Conversation.MAX_MODEL);
        StreamStarter starter = starters.stream().filter(st -> st.starts(type)).findFirst()
                .orElseThrow(() -> ProblemException.badRequest(UNKNOWN_TYPE));
        Stream stream = starter.start(owner, type, new StreamStarter.Request(input.relatedId(), input.conversationId(),
                input.message(), input.input(), model, input.systemPrompt(), input.metadata()));
        String events = "api/streams/" + stream.id() + "/events";
        JsonObject created = JSON.createObjectBuilder()
                .add("streamId", stream.id())
                .add("type", stream.type().wire())
                .add("relatedId", stream.relatedId() == null ? jakarta.json.JsonValue.NULL
                        : JSON.createValue(stream.relatedId()))
                .add("status", stream.status().wire())
                .add("eventsUrl", events)
                .build();
        return Response.created(uri.getBaseUriBuilder().path("streams").path(stream.id()).build())
                .entity(created).build();
    }

    /** The caller's running streams (state without content), oldest first. */
    @Operation(summary = "The caller's running streams")
    @Tag(name = "Streams")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public List<JsonObject> list(@QueryParam("status") String status) {
        if (status != null && !status.equals("active")) {
            throw ProblemException.badRequest("status must be active");
        }
        return hub.running(Owners.of(request)).stream().map(StreamView::of).toList();
    }

    /**
     * The stream's state; with {@code after} the polling fallback: {@code {"status","lastEventId","events"}} with the
     * events after {@code after}, waiting up to {@code wait} seconds (at most 30) for one. A waiting poll holds no
     * thread: it is a {@link Pump} following the stream's log, answered on the writers' pool.
     */
    @Operation(summary = "A stream's state; with after=N the polling fallback, waiting up to wait seconds")
    @Tag(name = "Streams")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "410", ref = "Gone")
    @GET
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public void state(@PathParam("id") String id, @QueryParam("after") Long after, @QueryParam("wait") Integer wait,
                      @Suspended AsyncResponse response) {
        String owner = Owners.of(request);
        Optional<Stream> live = hub.find(owner, id);
        if (after == null) {
            response.resume(live.map(s -> StreamView.of(s, true)).orElseGet(() -> fromDatabase(owner, id)));
            return;
        }
        if (after < 0) {
            throw ProblemException.badRequest("after must be 0 or more");
        }
        int seconds = wait == null ? 0 : Math.max(0, Math.min(MAX_WAIT_SECONDS, wait));
        Stream stream = live.orElseGet(() -> hub.require(owner, id));
        stream.attended();
        if (seconds == 0 || poll(stream, after, response, false)) {
            poll(stream, after, response, true);
            return;
        }
        Pump waiter = new Pump(executors.writers()) {
            @Override
            protected void pump() {
                if (poll(stream, after, response, false)) {
                    close();
                }
            }

            @Override
            protected void closed() {
                stream.unfollow(this);
            }
        };
        response.setTimeout(seconds, TimeUnit.SECONDS);
        response.setTimeoutHandler(r -> {
            if (waiter.close()) {
                poll(stream, after, r, true);
            }
        });
        stream.follow(waiter);
    }

    /**
     * Answers a poll when there are events (or the stream ended, or {@code always}); true when it answered (or the
     * response was answered already). The events' data is the SSE data, embedded as JSON objects.
     */
    private static boolean poll(Stream stream, long after, AsyncResponse response, boolean always) {
        if (response.isDone()) {
            return true;
        }
        List<EventLog.Logged<StreamEntry>> events = stream.log().after(after, POLL_BATCH);
        if (events.isEmpty() && !always && !stream.terminated()) {
            return false;
        }
        StringBuilder json = new StringBuilder(256).append("{\"status\":\"").append(stream.status().wire())
                .append("\",\"lastEventId\":").append(stream.lastEventId()).append(",\"events\":[");
        for (int i = 0; i < events.size(); i++) {
            StreamEvent e = stream.sse(events.get(i));
            json.append(i == 0 ? "" : ",").append("{\"id\":").append(e.id()).append(",\"event\":\"")
                    .append(e.name()).append("\",\"data\":").append(e.data()).append('}');
        }
        response.resume(Response.ok(json.append("]}").toString(), MediaType.APPLICATION_JSON_TYPE).build());
        return true;
    }

    /**
     * Follows a stream over SSE (EventSource-compatible): the events after {@code Last-Event-ID} (header) or
     * {@code lastEventId} (query), then live ones; the response ends after the terminal event. {@code flushMs} and
     * {@code minChunk} ask for adaptive delivery (API.md section 13; {@link Delivery}).
     *
     * @throws ProblemException 400 for a bad {@code Last-Event-ID}, {@code flushMs} or {@code minChunk}; 404; 410; 429
     */
    @Operation(summary = "Follow a stream over SSE, after Last-Event-ID")
    @Tag(name = "Streams")
    @APIResponse(responseCode = "200", ref = "EventStream")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "410", ref = "Gone")
    @APIResponse(responseCode = "429", ref = "TooMany")
    @GET
    @Path("{id}/events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void events(@PathParam("id") String id, @HeaderParam(HttpHeaders.LAST_EVENT_ID_HEADER) String lastEventId,
                       @QueryParam("lastEventId") String lastEventIdQuery, @QueryParam("clientId") String clientId,
                       @HeaderParam("X-Sluice-Client-Id") String clientIdHeader,
                       @QueryParam("flushMs") String flushMs, @QueryParam("minChunk") String minChunk,
                       @Context SseEventSink sink, @Context Sse sse) {
        Delivery delivery = followers.delivery(flushMs, minChunk);
        String owner = Owners.of(request);
        Stream stream = hub.require(owner, id);
        long after = parseLastEventId(lastEventId != null ? lastEventId : lastEventIdQuery);
        if (after > 0) {
            sink = metrics.resumedOver(sink); // metrics: resume, and its latency to the first replayed event
        }
        followers.follow(owner, stream, Stream.Resumption.after(after),
                clientId != null ? clientId : clientIdHeader, new ApiEventSink(sink, sse, request), delivery);
    }

    /** Stops the stream: 202 with its state; {@code stopped} reaches every follower. */
    @Operation(summary = "Stop the generation; followers get stopped")
    @Tag(name = "Streams")
    @APIResponse(responseCode = "202", description = "Accepted", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @POST
    @Path("{id}/stop")
    @Produces(MediaType.APPLICATION_JSON)
    public Response stop(@PathParam("id") String id) {
        String owner = Owners.of(request);
        Stream stream = hub.require(owner, id);
        stream.stop(Reason.USER, MessageStatus.STOPPED);
        return Response.accepted(StreamView.of(stream, false)).build();
    }

    private JsonObject fromDatabase(String owner, String id) {
        StreamRecord record = records.find(owner, id).orElseThrow(() -> ProblemException.notFound("stream"));
        if (record.getMessageId() != null) {
            Optional<Message> message = conversations.message(owner, record.getMessageId());
            if (message.isPresent()) {
                return StreamView.of(record, message.get().getContent(), message.get().getReasoning());
            }
        }
        return StreamView.of(record, record.getContent(), null);
    }

    /** A {@code Last-Event-ID}: absent or blank is 0; anything but a non-negative integer is 400. */
    static long parseLastEventId(String value) {
        if (value == null || value.isBlank()) {
            return 0;
        }
        try {
            long id = Long.parseLong(value.strip());
            if (id >= 0) {
                return id;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw ProblemException.badRequest("Last-Event-ID must be a non-negative integer");
    }
}
