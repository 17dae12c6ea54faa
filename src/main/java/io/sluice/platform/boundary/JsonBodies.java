package io.sluice.platform.boundary;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.JsonInput;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbException;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.lang.reflect.RecordComponent;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/**
 * Reads JSON request bodies with a size limit (API.md section 7): more than
 * {@link SluiceConfig#maxRequestBytes()} bytes gives 413, an empty body, invalid UTF-8, malformed JSON, JSON nested
 * too deep or holding a lone surrogate ({@link JsonInput}) or a value of the wrong type (a number where text is
 * expected) gives 400. Unknown properties are ignored. Resources take the body as an
 * {@link InputStream} and call {@link #read}, so a bad body is refused before anything changes.
 */
@ApplicationScoped
public class JsonBodies {

    @Inject
    SluiceConfig config;

    private final Jsonb jsonb = JsonbBuilder.create();

    /**
     * @param body the raw request body
     * @param type a record or bean with public accessors
     * @return the parsed body, never {@code null}
     * @throws ProblemException 400 or 413 as above
     */
    public <T> T read(InputStream body, Class<T> type) {
        String text = text(body);
        checkTextFields(object(text), type);
        try {
            return jsonb.fromJson(text, type);
        } catch (JsonbException e) {
            throw ProblemException.badRequest("the request body is not valid JSON for this endpoint");
        }
    }

    /**
     * The body as a JSON object, with the same limits and errors as {@link #read}, for endpoints that read a
     * foreign schema field by field (the OpenAI request of {@code /v1}).
     */
    public JsonObject readObject(InputStream body) {
        return object(text(body));
    }

    private String text(InputStream body) {
        int limit = config.maxRequestBytes();
        byte[] bytes;
        try {
            bytes = body.readNBytes(limit + 1);
        } catch (IOException e) {
            throw ProblemException.badRequest("the request body could not be read");
        }
        if (bytes.length > limit) {
            throw ProblemException.tooLarge(limit);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ProblemException.badRequest("the request body is not valid UTF-8");
        }
        if (text.isBlank()) {
            throw ProblemException.badRequest("the request body is empty: send a JSON object");
        }
        String problem = JsonInput.problem(text);
        if (problem != null) {
            throw ProblemException.badRequest(problem);
        }
        return text;
    }

    private static JsonObject object(String text) {
        try (JsonReader reader = JSON.createReader(new StringReader(text))) {
            JsonValue value = reader.readValue();
            if (!(value instanceof JsonObject o)) {
                throw ProblemException.badRequest("the request body must be a JSON object");
            }
            return o;
        } catch (JsonException e) {
            throw ProblemException.badRequest("the request body is not valid JSON");
        }
    }

    /**
     * JSON-B would quietly turn {@code 42} into {@code "42"}: a text field must be a JSON string (or null).
     */
    private static void checkTextFields(JsonObject object, Class<?> type) {
        if (!type.isRecord()) {
            return;
        }
        for (RecordComponent component : type.getRecordComponents()) {
            JsonValue value = object.get(component.getName());
            if (component.getType() == String.class && value != null
                    && value.getValueType() != JsonValue.ValueType.STRING
                    && value.getValueType() != JsonValue.ValueType.NULL) {
                throw ProblemException.badRequest(component.getName() + " must be a string");
            }
        }
    }

    /**
     * A trimmed optional text field: {@code null} when absent or blank.
     *
     * @param max longest accepted value, in UTF-16 code units
     * @throws ProblemException 400 when longer than {@code max}
     */
    public static String optional(String value, String field, int max) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String stripped = value.strip();
        if (stripped.length() > max) {
            throw ProblemException.badRequest(field + " is longer than " + max + " characters");
        }
        return stripped;
    }

    @PreDestroy
    void close() {
        try {
            jsonb.close();
        } catch (Exception ignored) {
            // nothing to release that matters at undeploy
        }
    }
}
