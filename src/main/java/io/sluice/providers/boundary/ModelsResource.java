package io.sluice.providers.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.providers.control.Providers;
import io.sluice.providers.control.Route;
import jakarta.inject.Inject;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/models} (API.md section 10): the model routes users pick from, in order, as
 * {@code [{"name","type"}]}; never a URL or a key. Without {@code SLUICE_MODELS} there are no routes to pick from (any
 * name goes to the one upstream, API.md section 2), and the list is empty.
 */
@Path("models")
public class ModelsResource {

    @Inject
    Providers providers;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public JsonArray models() {
        JsonArrayBuilder list = JSON.createArrayBuilder();
        for (Route route : providers.routes()) {
            list.add(JSON.createObjectBuilder().add("name", route.name()).add("type", route.type().wire()));
        }
        return list.build();
    }
}
