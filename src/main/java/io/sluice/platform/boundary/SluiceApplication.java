package io.sluice.platform.boundary;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.info.License;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.media.SchemaProperty;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/**
 * Activates JAX-RS under {@code /api} (API.md section 1); resources and providers are discovered by scanning.
 *
 * <p>It also heads the OpenAPI document that the server serves at {@code /openapi} (API.md section 11): the shared
 * components below, the {@code text/event-stream} response and the RFC 9457 problem responses, are referred to by
 * the resources' {@code @APIResponse(ref = ...)}. The paths that are not JAX-RS resources ({@code /metrics},
 * {@code /health/*}, {@code /ws/agents}) come from {@code META-INF/openapi.yaml}, which the server merges in.
 */
@ApplicationPath("api")
@OpenAPIDefinition(
        info = @Info(title = "Sluice", version = "1",
                description = "A self-hosted LLM streaming gateway: chat over Server-Sent Events, streams that outlive "
                        + "connections, multi-agent runs over WebSocket. The contract is API.md.",
                license = @License(name = "see the repository")),
        components = @Components(
                schemas = {
                        @Schema(name = "Problem", type = SchemaType.OBJECT,
                                description = "RFC 9457 problem details (API.md section 7)",
                                properties = {
                                        @SchemaProperty(name = "type", type = SchemaType.STRING,
                                                example = "urn:sluice:problem:bad-request"),
                                        @SchemaProperty(name = "title", type = SchemaType.STRING),
                                        @SchemaProperty(name = "status", type = SchemaType.INTEGER),
                                        @SchemaProperty(name = "detail", type = SchemaType.STRING)}),
                        @Schema(name = "EventStream", type = SchemaType.STRING,
                                description = "text/event-stream: events stream, message, done, stopped, error (each "
                                        + "with id: and one-line JSON data:) and ping (no id), API.md section 2")},
                responses = {
                        @APIResponse(name = "EventStream", responseCode = "200",
                                description = "Server-Sent Events until the terminal event (done, stopped or error)",
                                content = @Content(mediaType = "text/event-stream",
                                        schema = @Schema(ref = "EventStream"))),
                        @APIResponse(name = "BadRequest", responseCode = "400", description = "Malformed or invalid",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "Forbidden", responseCode = "403",
                                description = "A foreign Origin or Host (API.md section 12)",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "NotFound", responseCode = "404",
                                description = "Unknown, or someone else's",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "Gone", responseCode = "410",
                                description = "The stream ended and left memory",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "TooLarge", responseCode = "413", description = "The body is too large",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "UnsupportedMediaType", responseCode = "415",
                                description = "Unsupported Content-Type",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem"))),
                        @APIResponse(name = "TooMany", responseCode = "429",
                                description = "A stream or connection limit; see Retry-After",
                                content = @Content(mediaType = "application/problem+json",
                                        schema = @Schema(ref = "Problem")))}))
public class SluiceApplication extends Application {
}
