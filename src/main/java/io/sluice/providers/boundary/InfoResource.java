package io.sluice.providers.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.providers.control.Providers;
import jakarta.inject.Inject;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/info} (extension of API.md, documented in the README): which provider answers requests
 * that name no model, and its default model, so that a UI can say "simulated" when the simulated model
 * answers: {@code {"provider":"openai"|"simulated","model":string|null,"simulated":boolean}}.
 */
@Path("info")
public class InfoResource {

    @Inject
    Providers providers;

    @Operation(summary = "Which provider and default model answer")
    @Tag(name = "Info")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonObject info() {
        boolean simulated = !providers.upstreamConfigured();
        String model = providers.effectiveModel(null);
        JsonObjectBuilder info = JSON.createObjectBuilder()
                .add("provider", simulated ? "simulated" : "openai");
        if (model == null) {
            info.addNull("model");
        } else {
            info.add("model", model);
        }
        return info.add("simulated", simulated).build();
    }
}
