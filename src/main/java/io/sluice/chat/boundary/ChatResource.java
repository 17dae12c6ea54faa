package io.sluice.chat.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.chat.control.Chats;
import io.sluice.chat.control.ConversationStreams;
import io.sluice.chat.control.StreamTarget;
import io.sluice.chat.control.Revisions;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.identity.control.Owners;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.JsonInput;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.boundary.ApiEventSink;
import io.sluice.streams.control.Delivery;
import io.sluice.streams.control.Followers;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamObserver;
import jakarta.inject.Inject;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * {@code /api/chat} (API.md sections 2 and 3): start a chat turn, or regenerate or continue an answer, and follow
 * its stream ({@code POST /api/chat/stream}), resume a stream from a character offset ({@code POST /api/chat/resume}),
 * and the {@code navigator.sendBeacon} abort of page unload ({@code POST /api/chat/abort}). Resume and abort also take
 * seed 001's shapes, which name the conversation instead of the stream (API.md section 13; {@link StreamTarget}, found
 * by {@link ConversationStreams}). Bad requests are refused with {@code application/problem+json} before anything is
 * saved or streamed.
 */
@Path("chat")
public class ChatResource {

    /** Largest abort body, in bytes (a beacon carries a stream id and a reason). */
    static final int MAX_ABORT_BYTES = 4096;

    @Inject
    JsonBodies bodies;
    @Inject
    Chats chats;
    @Inject
    Revisions revisions;
    @Inject
    ConversationStreams targets;
    @Inject
    Followers followers;
    @Inject
    SluiceConfig config;
    @Inject
    StreamObserver metrics;
    @Context
    HttpServletRequest request;

    /**
     * Body of {@code POST /api/chat/stream}.
     *
     * @param conversationId an existing conversation of the caller, or {@code null} for a new one
     * @param message        the user's text, required, not blank
     * @param model          model name sent upstream, optional
     * @param systemPrompt   overrides the conversation's system prompt for this turn, optional
     * @param parentId       Regenerate: a user message of the conversation to answer again, as a new version;
     *                       then {@code message} is omitted (README, "Extensions to API.md")
     * @param continueFrom   Continue: an answer of the conversation to continue; then {@code message} is omitted
     */
    public record ChatTurn(String conversationId, String message, String model, String systemPrompt,
                           String parentId, String continueFrom) {
    }

    /**
     * Body of {@code POST /api/chat/resume}: the offset counts UTF-16 code units of the content.
     *
     * @param streamId       the stream to follow (API.md section 3)
     * @param conversationId instead of {@code streamId}, the conversation whose running chat stream, or else latest
     *                       one, to follow (section 13, seed 001); ignored when {@code streamId} is given
     * @param offset         where to start, 0 (the default) to the content's length
     */
    public record Resume(String streamId, String conversationId, Integer offset) {
    }

    /**
     * Creates a chat stream and follows it: SSE from its first event ({@code stream}); {@code flushMs} and
     * {@code minChunk} ask for adaptive delivery (API.md section 13; {@link Delivery}), checked before anything starts.
     */
    @Operation(summary = "Start a chat turn and follow its stream (API.md section 2)")
    @Tag(name = "Chat")
    @APIResponse(responseCode = "200", ref = "EventStream")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "413", ref = "TooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "429", ref = "TooMany")
    @POST
    @Path("stream")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void stream(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(ref = "ChatTurn"))) InputStream body, @QueryParam("clientId") String clientId,
                       @HeaderParam("X-Sluice-Client-Id") String clientIdHeader,
                       @QueryParam("flushMs") String flushMs, @QueryParam("minChunk") String minChunk,
                       @Context SseEventSink sink, @Context Sse sse) {
        Delivery delivery = followers.delivery(flushMs, minChunk); // a bad value changes nothing
        ChatTurn input = bodies.read(body, ChatTurn.class);
        String owner = Owners.of(request);
        followers.ensureRoomFor(owner);
        Stream stream = start(owner, input);
        followers.follow(owner, stream, Stream.Resumption.after(0), clientId != null ? clientId : clientIdHeader,
                new ApiEventSink(sink, sse, request), delivery);
    }

    /**
     * Starts what the body asks: a new turn ({@code message}), a new version of an answer ({@code parentId}) or a
     * continuation ({@code continueFrom}); one of the three.
     *
     * @throws ProblemException 400 when the body names more than one
     */
    private Stream start(String owner, ChatTurn input) {
        boolean regenerate = input.parentId() != null && !input.parentId().isBlank();
        boolean resume = input.continueFrom() != null && !input.continueFrom().isBlank();
        boolean hasMessage = input.message() != null && !input.message().isEmpty();
        if ((regenerate ? 1 : 0) + (resume ? 1 : 0) + (hasMessage ? 1 : 0) > 1) {
            throw ProblemException.badRequest("send one of message, parentId (regenerate) and continueFrom (continue)");
        }
        if (regenerate) {
            return revisions.regenerate(owner, input.conversationId(), input.parentId(), input.model(),
                    input.systemPrompt());
        }
        if (resume) {
            return revisions.continueAnswer(owner, input.conversationId(), input.continueFrom(), input.model(),
                    input.systemPrompt());
        }
        return chats.startChat(owner, input.conversationId(), input.message(), input.model(), input.systemPrompt());
    }

    /**
     * Follows a stream from a character offset of its content: the first {@code message} may carry the rest
     * of a delta; concatenated, the deltas sent equal the content from {@code offset} on. The body names the stream
     * ({@code streamId}) or, as seed 001's client does, its conversation ({@code conversationId}: its running chat
     * stream, else its latest one; API.md section 13). Read as JSON whatever its content type says ({@code text/plain}
     * included: seed 001's {@code fetch} sets no content type for its JSON text, so a browser sends it as
     * {@code text/plain;charset=UTF-8}). {@code flushMs} and {@code minChunk} ask for adaptive delivery (API.md section
     * 13; {@link Delivery}).
     *
     * @throws ProblemException 400 without either id, with an offset outside the content or a bad {@code flushMs} or
     *                          {@code minChunk}, 404 for unknown or
     *                          foreign ids and for a conversation without a chat stream, 410 for a stream that left
     *                          memory, 413, 429
     */
    @Operation(summary = "Follow a stream from a character offset of its content (UTF-16 code units); "
            + "by streamId, or by conversationId (its running chat stream, else its latest one: API.md section 13)")
    @Tag(name = "Chat")
    @APIResponse(responseCode = "200", ref = "EventStream")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "410", ref = "Gone")
    @APIResponse(responseCode = "413", ref = "TooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @APIResponse(responseCode = "429", ref = "TooMany")
    @POST
    @Path("resume")
    @Consumes({MediaType.APPLICATION_JSON, MediaType.TEXT_PLAIN})
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void resume(@RequestBody(content = {
            @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "Resume")),
            @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(ref = "Resume"))}) InputStream body,
                       @QueryParam("clientId") String clientId,
                       @HeaderParam("X-Sluice-Client-Id") String clientIdHeader,
                       @QueryParam("flushMs") String flushMs, @QueryParam("minChunk") String minChunk,
                       @Context SseEventSink sink, @Context Sse sse) {
        Delivery delivery = followers.delivery(flushMs, minChunk);
        Resume input = bodies.read(body, Resume.class);
        StreamTarget target = StreamTarget.of(input.streamId(), input.conversationId());
        int offset = input.offset() == null ? 0 : input.offset();
        String owner = Owners.of(request);
        Stream stream = targets.toResume(owner, target);
        Stream.Resumption from;
        try {
            from = stream.resumeAt(offset);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
        // metrics: resume, and its latency to the first replayed event
        followers.follow(owner, stream, from, clientId != null ? clientId : clientIdHeader,
                new ApiEventSink(metrics.resumedOver(sink), sse, request), delivery);
    }

    /**
     * The beacon abort of page unload: body {@code {"streamId","reason"}} as {@code text/plain} (JSON text),
     * {@code application/json} or form fields; answers 204. {@code reason: "unload"} aborts after the unload
     * grace unless a connection of the owner re-attaches (a reload); any other reason aborts at once; without a
     * reason the stream stops at once ({@code user}). Seed 001's beacon {@code {"conversationId"}} (API.md section 13)
     * aborts each running chat stream of the conversation, with reason {@code unload} when it gives none (204 also
     * when none runs). A body with both ids is read by its {@code streamId} ({@link StreamTarget}).
     *
     * @throws ProblemException 400 for a body without either id, a bad encoding or a reason over 64 characters; 404
     *                          for unknown or foreign ids; 410 for a stream that left memory; 413 over 4 KiB
     */
    @Operation(summary = "Abort a stream (navigator.sendBeacon on page unload; reason unload waits for a reload); "
            + "by streamId, or by conversationId (its running chat streams; reason unload by default: API.md "
            + "section 13)")
    @Tag(name = "Chat")
    @APIResponse(responseCode = "204", description = "No Content")
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "403", ref = "Forbidden")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @APIResponse(responseCode = "413", ref = "TooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @POST
    @Path("abort")
    @Consumes({MediaType.TEXT_PLAIN, MediaType.APPLICATION_JSON, MediaType.APPLICATION_FORM_URLENCODED})
    public Response abort(@RequestBody(content = {
            @Content(mediaType = MediaType.TEXT_PLAIN, schema = @Schema(ref = "Abort")),
            @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(ref = "Abort")),
            @Content(mediaType = MediaType.APPLICATION_FORM_URLENCODED, schema = @Schema(ref = "Abort"))})
                          InputStream body, @HeaderParam("Content-Type") String contentType) {
        String[] fields = abortFields(body, contentType);
        StreamTarget target = StreamTarget.of(fields[0], fields[1]);
        String reason = target.abortReason(fields[2]);
        String owner = Owners.of(request);
        for (Stream stream : targets.toAbort(owner, target)) {
            if (StreamTarget.UNLOAD.equals(reason)) {
                metrics.unloadAbortRequested(); // metrics: unload abort
                stream.abortOnUnload(config.unloadGraceMillis());
            } else {
                stream.stop(reason, MessageStatus.STOPPED);
            }
        }
        return Response.noContent().build();
    }

    /** {@code [streamId, conversationId, reason]} from any of the three encodings a beacon can send. */
    private static String[] abortFields(InputStream body, String contentType) {
        String text;
        try {
            byte[] bytes = body.readNBytes(MAX_ABORT_BYTES + 1);
            if (bytes.length > MAX_ABORT_BYTES) {
                throw ProblemException.tooLarge(MAX_ABORT_BYTES);
            }
            text = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw ProblemException.badRequest("the request body could not be read");
        }
        if (contentType != null && contentType.toLowerCase().startsWith(MediaType.APPLICATION_FORM_URLENCODED)) {
            String streamId = null;
            String conversationId = null;
            String reason = null;
            for (String pair : text.split("&")) {
                int eq = pair.indexOf('=');
                String key = formDecode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : formDecode(pair.substring(eq + 1));
                switch (key) {
                    case "streamId" -> streamId = value;
                    case "conversationId" -> conversationId = value;
                    case "reason" -> reason = value;
                    default -> {
                        // other fields are ignored, as in JSON bodies
                    }
                }
            }
            return new String[] {streamId, conversationId, reason};
        }
        String problem = JsonInput.problem(text);
        if (problem != null) {
            throw ProblemException.badRequest(problem);
        }
        try (var reader = JSON.createReader(new StringReader(text))) {
            JsonValue value = reader.readValue();
            if (value instanceof JsonObject object) {
                return new String[] {string(object.get("streamId")), string(object.get("conversationId")),
                        string(object.get("reason"))};
            }
        } catch (JsonException e) {
            // answered below
        }
        throw ProblemException.badRequest("the body must be {\"streamId\",\"reason\"} (or {\"conversationId\"}) as "
                + "JSON or form fields");
    }

    /** One form-encoded name or value; a bad percent-escape ({@code %ZZ}, a trailing {@code %}) is a 400. */
    private static String formDecode(String encoded) {
        try {
            return URLDecoder.decode(encoded, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest("the form body holds a bad percent-escape: " + e.getMessage());
        }
    }

    private static String string(JsonValue value) {
        if (value instanceof JsonString s) {
            return s.getString();
        }
        if (value instanceof JsonNumber n) {
            return n.toString();
        }
        return null;
    }
}
