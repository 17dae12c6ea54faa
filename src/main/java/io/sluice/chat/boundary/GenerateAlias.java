package io.sluice.chat.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.identity.control.Owners;
import io.sluice.platform.control.JsonInput;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.problems.boundary.Problems;
import io.sluice.platform.control.ProblemException;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * {@code POST /api/v1/ai/generate} (API.md section 13, seed 004's path) is {@code POST /api/generate} (section 9,
 * {@link GenerateResource}): this pre-matching filter sends the request there, so there is one implementation. The
 * answer's shape follows {@code stream}, not the {@code Accept} header: the section 2 event stream when the query
 * says {@code ?stream=true} or, without that query parameter, when the JSON body says {@code "stream": true} (seed
 * 004's {@code fetch} example); otherwise the JSON object. The filter sets {@code Accept} accordingly, as JAX-RS
 * implementations' own URI-based content negotiation does, and the resource's content negotiation does the rest.
 *
 * <p>With {@code SLUICE_API_KEYS} or {@code SLUICE_API_KEYS_FILE} set, this path needs a known bearer key, as
 * {@code /v1} does (seed 004 sends {@code Authorization: Bearer <token>}): without one it is answered 401
 * {@code application/problem+json} ({@code urn:sluice:problem:unauthorized}, {@code WWW-Authenticate: Bearer}) before
 * anything runs. {@code ApiKeyFilter} has already refused an unknown key and named the key's owner; the check is made
 * here, where the path is matched, so that no spelling of the path slips past it.
 */
@Provider
@PreMatching
public class GenerateAlias implements ContainerRequestFilter {

    /** The alias, relative to the application's {@code /api}. */
    static final String PATH = "v1/ai/generate";

    private volatile SluiceConfig config;

    @Override
    public void filter(ContainerRequestContext context) throws IOException {
        if (!isAlias(context.getUriInfo().getPath())) {
            return;
        }
        if (Boolean.TRUE.equals(context.getProperty(Owners.API_KEYS_ATTRIBUTE))
                && context.getProperty(Owners.API_KEY_ATTRIBUTE) == null) {
            context.abortWith(Response.fromResponse(Problems.response(401, "unauthorized",
                    "no API key was given: send Authorization: Bearer KEY", null))
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer").build());
            return;
        }
        List<String> query = context.getUriInfo().getQueryParameters().get("stream");
        Boolean stream = fromQuery(query == null || query.isEmpty() ? null : query.get(0));
        if (stream == null && "POST".equals(context.getMethod()) && context.hasEntity()) {
            byte[] body = context.getEntityStream().readNBytes(config().maxRequestBytes() + 1);
            context.setEntityStream(new ByteArrayInputStream(body)); // read again, with its checks, by the resource
            stream = fromBody(body);
        }
        context.getHeaders().putSingle(HttpHeaders.ACCEPT, Boolean.TRUE.equals(stream) ? MediaType.SERVER_SENT_EVENTS
                : MediaType.APPLICATION_JSON);
        String raw = context.getUriInfo().getRequestUri().getRawQuery();
        context.setRequestUri(URI.create(context.getUriInfo().getBaseUri() + "generate"
                + (raw == null ? "" : "?" + raw)));
    }

    /** Whether a request path (relative to {@code /api}, decoded) is the alias; a leading or trailing slash is allowed. */
    static boolean isAlias(String path) {
        if (path == null) {
            return false;
        }
        int from = path.startsWith("/") ? 1 : 0;
        int to = path.endsWith("/") && path.length() > from ? path.length() - 1 : path.length();
        return path.substring(from, Math.max(from, to)).equals(PATH);
    }

    /**
     * The query's {@code stream}: {@code true} or {@code false} (any case), or {@code null} without the parameter.
     *
     * @throws ProblemException 400 for another value
     */
    static Boolean fromQuery(String value) {
        if (value == null) {
            return null;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw ProblemException.badRequest("stream must be true or false");
        };
    }

    /**
     * The body's {@code stream} ({@code true} or {@code false}), or {@code null} when it has none, is {@code null}, or
     * the body is not a JSON object (the resource then answers that body's 400 or 413).
     *
     * @throws ProblemException 400 when {@code stream} is neither a boolean nor {@code null}
     */
    static Boolean fromBody(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8);
        if (JsonInput.problem(text) != null) {
            return null;
        }
        JsonValue stream;
        try (var reader = JSON.createReader(new StringReader(text))) {
            JsonValue value = reader.readValue();
            if (!(value instanceof JsonObject object)) {
                return null;
            }
            stream = object.get("stream");
        } catch (JsonException e) {
            return null;
        }
        if (stream == null || stream.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (stream.getValueType() == JsonValue.ValueType.TRUE || stream.getValueType() == JsonValue.ValueType.FALSE) {
            return stream.getValueType() == JsonValue.ValueType.TRUE;
        }
        throw ProblemException.badRequest("stream must be true or false");
    }

    private SluiceConfig config() {
        SluiceConfig c = config;
        if (c == null) {
            c = CDI.current().select(SluiceConfig.class).get(); // providers are not CDI beans on every server
            config = c;
        }
        return c;
    }
}
