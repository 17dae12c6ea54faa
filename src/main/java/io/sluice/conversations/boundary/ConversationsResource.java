package io.sluice.conversations.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.entity.Conversation;
import io.sluice.identity.control.Owners;
import io.sluice.platform.boundary.JsonBodies;
import io.sluice.problems.control.ProblemException;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.io.InputStream;
import java.util.List;

/**
 * {@code /api/conversations} (API.md section 4): the caller's conversations and their messages, plus (README,
 * "Extensions to API.md") renaming and choosing the active version of an answer. Someone else's conversation
 * answers 404 like a missing one (section 6).
 */
@Path("conversations")
@Produces(MediaType.APPLICATION_JSON)
public class ConversationsResource {

    @Inject
    ConversationStore store;
    @Inject
    JsonBodies bodies;
    @Context
    HttpServletRequest request;

    /** Body of {@code POST /api/conversations}; every field optional. */
    public record NewConversation(String title, String systemPrompt, String model) {
    }

    /** The caller's conversations, most recently updated first. */
    @Operation(summary = "The caller's conversations")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    public List<ConversationView> list() {
        return store.list(Owners.of(request)).stream().map(ConversationView::of).toList();
    }

    /** Body of {@code PATCH /api/conversations/{id}}: the title the user chose. */
    public record Rename(String title) {
    }

    /**
     * Creates a conversation: 201 with its view and {@code Location}; 400 for invalid fields. A title given here is
     * the user's: generated titles never replace it. Without one the conversation is titled
     * {@link Conversation#DEFAULT_TITLE} until its first answer's title stream ends.
     */
    @Operation(summary = "Create a conversation")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "201", description = "Created", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "413", ref = "TooLarge")
    @APIResponse(responseCode = "415", ref = "UnsupportedMediaType")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response create(InputStream body, @Context UriInfo uri) {
        NewConversation input = bodies.read(body, NewConversation.class);
        String title = JsonBodies.optional(input.title(), "title", Conversation.MAX_TITLE);
        String model = JsonBodies.optional(input.model(), "model", Conversation.MAX_MODEL);
        String systemPrompt = JsonBodies.optional(input.systemPrompt(), "systemPrompt", Conversation.MAX_SYSTEM_PROMPT);
        Conversation created = store.create(Owners.of(request), title, systemPrompt, model);
        return Response.created(uri.getAbsolutePathBuilder().path(created.getId()).build())
                .entity(ConversationView.of(created)).build();
    }

    @Operation(summary = "One conversation of the caller")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "404", ref = "NotFound")
    @GET
    @Path("{id}")
    public ConversationView get(@PathParam("id") String id) {
        return ConversationView.of(store.get(Owners.of(request), id));
    }

    /** Most messages in one page of {@code GET .../messages?limit=}. */
    public static final int MAX_PAGE = 500;

    /**
     * The conversation's messages in order (API.md section 4 message shape, plus extensions; a failed answer's
     * {@code error}, API.md section 13). Paging (README, "Extensions"; issue 20: long conversations): with
     * {@code limit} (1 to {@value #MAX_PAGE}) only the latest {@code limit} messages, or with {@code before} (a
     * {@code seq}) the {@code limit} messages just before it, oldest first; when older ones exist, the answer's
     * {@code Link} header has their page as {@code rel="prev"}. Without either, every message.
     *
     * @throws ProblemException 400 for a {@code limit} or {@code before} that is not a positive integer (or a
     *                          {@code before} without {@code limit}), 404 for unknown or foreign ids
     */
    @Operation(summary = "The messages of a conversation, oldest first; ?limit=N (and ?before=seq) for a page, "
            + "the older page in the Link header (rel=prev)")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @APIResponse(responseCode = "400", ref = "BadRequest")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @GET
    @Path("{id}/messages")
    public Response messages(@PathParam("id") String id, @QueryParam("before") String before,
                             @QueryParam("limit") String limit, @Context UriInfo uri) {
        if (limit == null) {
            if (before != null) {
                throw ProblemException.badRequest("before needs limit");
            }
            return Response.ok(store.messages(Owners.of(request), id).stream().map(MessageView::of).toList()).build();
        }
        int size = positive("limit", limit, MAX_PAGE);
        int from = before == null ? Integer.MAX_VALUE : positive("before", before, Integer.MAX_VALUE);
        ConversationStore.Page page = store.page(Owners.of(request), id, from, size);
        List<MessageView> views = page.messages().stream().map(MessageView::of).toList();
        Response.ResponseBuilder ok = Response.ok(views);
        if (page.older()) {
            ok.link(uri.getAbsolutePathBuilder().replaceQuery(null).queryParam("before", views.get(0).seq())
                    .queryParam("limit", size).build(), "prev");
        }
        return ok.build();
    }

    private static int positive(String name, String value, int max) {
        int parsed;
        try {
            parsed = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest(name + " must be an integer from 1 to " + max);
        }
        if (parsed < 1 || parsed > max) {
            throw ProblemException.badRequest(name + " must be from 1 to " + max + ", not " + parsed);
        }
        return parsed;
    }

    /**
     * The raw record of an answer (API.md section 13; README, "Extensions to API.md"): the JSON body sent upstream and
     * the upstream's response as received ({@link RawView}). 404 for unknown or foreign ids, a message of another
     * conversation, and a message without a raw record (a user message, an answer written without its stream).
     */
    @Operation(summary = "The raw upstream request and response of an answer, for debugging")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
            schema = @Schema(ref = "RawRecord")))
    @APIResponse(responseCode = "404", ref = "NotFound")
    @GET
    @Path("{id}/messages/{messageId}/raw")
    public String raw(@PathParam("id") String id, @PathParam("messageId") String messageId) {
        return RawView.of(store.withRawRecord(Owners.of(request), id, messageId));
    }

    /**
     * Renames a conversation: 200 with its view. The title is the user's from then on: a title stream that is
     * running, or any later one, leaves it alone. 400 for a missing, blank or too long title (200 UTF-16 code
     * units), 404 for an unknown or foreign conversation.
     */
    @PATCH
    @Path("{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    public ConversationView rename(@PathParam("id") String id, InputStream body) {
        Rename input = bodies.read(body, Rename.class);
        String title = JsonBodies.optional(input.title(), "title", Conversation.MAX_TITLE);
        if (title == null) {
            throw ProblemException.badRequest("title is required and must not be blank");
        }
        return ConversationView.of(store.rename(Owners.of(request), id, title));
    }

    /**
     * Makes a version of an answer the active one, which later turns and the history use (Regenerate makes
     * versions): 200 with the message. 404 for unknown or foreign ids, 400 for a message that is no chat answer.
     */
    @POST
    @Path("{id}/messages/{messageId}/activate")
    public MessageView activate(@PathParam("id") String id, @PathParam("messageId") String messageId) {
        return MessageView.of(store.activate(Owners.of(request), id, messageId));
    }

    /** Deletes the conversation and its messages: 204, or 404. */
    @Operation(summary = "Delete a conversation and its messages")
    @Tag(name = "Conversations")
    @APIResponse(responseCode = "204", description = "No Content")
    @APIResponse(responseCode = "404", ref = "NotFound")
    @DELETE
    @Path("{id}")
    public Response delete(@PathParam("id") String id) {
        store.delete(Owners.of(request), id);
        return Response.noContent().build();
    }
}
