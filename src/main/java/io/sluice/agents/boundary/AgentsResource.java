package io.sluice.agents.boundary;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.agents.control.AgentRun;
import io.sluice.agents.control.AgentRuns;
import io.sluice.agents.control.AgentSpec;
import io.sluice.identity.control.Owners;
import jakarta.inject.Inject;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code /api/agents}: what a multi-agent client needs besides the socket (API.md section 5 extension, see the
 * README): the roster, and the caller's runs held in memory, so that a reloaded page can find them and
 * {@code resume} them.
 */
@Path("agents")
@Produces(MediaType.APPLICATION_JSON)
public class AgentsResource {

    @Inject
    AgentRuns runs;
    @Context
    HttpServletRequest request;

    /** {@code {"agents":[{"name","description","dependsOn":[...]}]}}, each agent after those it depends on. */
    @Operation(summary = "The agent roster of multi-agent runs")
    @Tag(name = "Agents")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    @Path("roster")
    public JsonObject roster() {
        JsonArrayBuilder agents = JSON.createArrayBuilder();
        for (AgentSpec spec : runs.roster().agents()) {
            agents.add(JSON.createObjectBuilder().add("name", spec.name()).add("description", spec.description())
                    .add("dependsOn", strings(spec.dependsOn())));
        }
        return JSON.createObjectBuilder().add("agents", agents).build();
    }

    /**
     * The caller's runs held in memory, newest first: {@code [{"runId","task","status","agents":[{"name","status",
     * "streamId"}],"lastSequence","conversationId","createdAt","endedAt"}]}; {@code status} is {@code running} until
     * {@code run_complete}.
     */
    @Operation(summary = "The caller's multi-agent runs held in memory, newest first")
    @Tag(name = "Agents")
    @APIResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json"))
    @GET
    @Path("runs")
    public JsonArray list() {
        JsonArrayBuilder array = JSON.createArrayBuilder();
        for (AgentRun run : runs.list(Owners.of(request))) {
            JsonArrayBuilder agents = JSON.createArrayBuilder();
            for (AgentRun.AgentState state : run.agentStates()) {
                agents.add(JSON.createObjectBuilder().add("name", state.name()).add("status", state.status().wire())
                        .add("streamId", state.streamId() == null ? JsonValue.NULL : JSON.createValue(state.streamId())));
            }
            JsonObjectBuilder item = JSON.createObjectBuilder()
                    .add("runId", run.id())
                    .add("task", run.task())
                    .add("status", run.status().wire())
                    .add("agents", agents)
                    .add("lastSequence", run.lastSequence())
                    .add("conversationId", run.conversationId())
                    .add("createdAt", run.createdAt().toString())
                    .add("endedAt", run.endedAt() == null ? JsonValue.NULL : JSON.createValue(run.endedAt().toString()));
            array.add(item);
        }
        return array.build();
    }

    private static JsonArrayBuilder strings(java.util.List<String> values) {
        JsonArrayBuilder array = JSON.createArrayBuilder();
        values.forEach(array::add);
        return array;
    }
}
