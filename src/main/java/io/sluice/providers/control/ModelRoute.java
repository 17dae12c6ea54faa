package io.sluice.providers.control;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One configured model route (API.md section 10): a name users pick, its type, the OpenAI-compatible upstream that
 * serves it, and the model name sent there. Immutable.
 *
 * @param name          what requests name, 1 to {@value #MAX_NAME} characters without spaces or control characters
 * @param type          its type
 * @param url           the upstream's base URL ({@code …/v1}), without trailing slash; Sluice POSTs to
 *                      {@code {url}/chat/completions}
 * @param apiKey        sent as {@code Authorization: Bearer …}, or {@code null}
 * @param upstreamModel the {@code model} sent upstream; the route's name when the configuration gives none
 */
public record ModelRoute(String name, ModelType type, String url, String apiKey, String upstreamModel) {

    /** Longest route name, in characters (the {@code model} column holds 200). */
    public static final int MAX_NAME = 200;

    private static final Pattern NAME = Pattern.compile("[^\\s\\p{Cntrl}]{1," + MAX_NAME + "}");
    private static final Set<String> FIELDS = Set.of("name", "type", "url", "apiKey", "upstreamModel");

    /** The key never shows in logs. */
    @Override
    public String toString() {
        return "ModelRoute[" + name + ", " + type.wire() + ", " + url + ", " + upstreamModel + "]";
    }

    /**
     * Routes from their JSON form ({@code SLUICE_MODELS}, or the file {@code SLUICE_MODELS_FILE} names): an array of
     * {@code {"name","type","url","apiKey","upstreamModel"}}, in the order that makes a type's first route.
     *
     * @throws IllegalArgumentException for anything else: not a non-empty array of objects, a missing or mistyped
     *                                  field, an unknown field (a misspelt {@code apiKey} would otherwise be dropped
     *                                  silently), an unknown type, a URL that is not absolute http(s), a name given
     *                                  twice; the message names the route and never shows a key
     */
    public static List<ModelRoute> parse(JsonValue json) {
        if (!(json instanceof JsonArray array) || array.isEmpty()) {
            throw new IllegalArgumentException("the models must be a non-empty JSON array of routes");
        }
        List<ModelRoute> routes = new ArrayList<>(array.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            if (!(array.get(i) instanceof JsonObject object)) {
                throw new IllegalArgumentException("route " + (i + 1) + " is not a JSON object");
            }
            ModelRoute route = route(object, i + 1);
            if (!names.add(route.name())) {
                throw new IllegalArgumentException("route name \"" + route.name() + "\" is given twice");
            }
            routes.add(route);
        }
        return List.copyOf(routes);
    }

    private static ModelRoute route(JsonObject object, int position) {
        String name = text(object, "name", true, "route " + position);
        String where = "route \"" + name + "\"";
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(where + ": the name must be 1 to " + MAX_NAME
                    + " characters without spaces");
        }
        for (String key : object.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new IllegalArgumentException(where + ": unknown field \"" + key + "\"; the fields are "
                        + String.join(", ", FIELDS.stream().sorted().toList()));
            }
        }
        String typeName = text(object, "type", true, where);
        ModelType type = ModelType.fromWire(typeName).orElseThrow(() -> new IllegalArgumentException(where
                + ": type must be thinking, fast or instruct, was \"" + typeName + "\""));
        String url = text(object, "url", true, where).strip();
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": url is not a URL");
        }
        if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                || uri.getHost() == null) {
            throw new IllegalArgumentException(where + ": url must be an absolute http(s) URL");
        }
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        String apiKey = text(object, "apiKey", false, where);
        String upstreamModel = text(object, "upstreamModel", false, where);
        return new ModelRoute(name, type, url, apiKey == null || apiKey.isBlank() ? null : apiKey.strip(),
                upstreamModel == null || upstreamModel.isBlank() ? name : upstreamModel.strip());
    }

    private static String text(JsonObject object, String key, boolean required, String where) {
        JsonValue value = object.get(key);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            if (required) {
                throw new IllegalArgumentException(where + ": " + key + " is required");
            }
            return null;
        }
        if (!(value instanceof JsonString s)) {
            throw new IllegalArgumentException(where + ": " + key + " must be a string");
        }
        if (required && s.getString().isBlank()) {
            throw new IllegalArgumentException(where + ": " + key + " must not be blank");
        }
        return s.getString();
    }
}
