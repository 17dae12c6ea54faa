package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays whole recorded streams ({@code NAME.jsonl}, one chunk per line) through {@link EventStreamParser}
 * and {@link ChatChunks}, framed as the upstream sends them, and compares the reassembled answer with
 * {@code NAME.expected.json}: the project's own samples always, the shared fixtures where present.
 */
class SampleStreamsTest {

    private static final Path SHARED_FIXTURES = Path.of("../shared/fixtures/upstream");

    @TestFactory
    Stream<DynamicTest> projectSamples() throws IOException, URISyntaxException {
        URL url = SampleStreamsTest.class.getResource("/upstream-samples");
        assertTrue(url != null, "src/test/resources/upstream-samples is on the test class path");
        List<Path> samples = samples(Path.of(url.toURI()));
        assertTrue(samples.size() >= 3, "the three hand-written samples are there: " + samples);
        return samples.stream().map(p -> DynamicTest.dynamicTest(name(p), () -> replay(p)));
    }

    @TestFactory
    Stream<DynamicTest> sharedFixtures() throws IOException {
        if (!Files.isDirectory(SHARED_FIXTURES)) {
            // one visible skipped test (an aborted factory would not show in the report)
            String message = "shared upstream fixtures absent (" + SHARED_FIXTURES.toAbsolutePath().normalize()
                    + "): recorded provider streams skipped";
            return Stream.of(DynamicTest.dynamicTest("shared fixtures", () -> Assumptions.abort(message)));
        }
        List<Path> samples = samples(SHARED_FIXTURES);
        assertTrue(!samples.isEmpty(), "the fixtures folder holds *.jsonl files");
        return samples.stream().map(p -> DynamicTest.dynamicTest(name(p), () -> replay(p)));
    }

    private static List<Path> samples(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    private static String name(Path jsonl) {
        String file = jsonl.getFileName().toString();
        return file.substring(0, file.length() - ".jsonl".length());
    }

    private static void replay(Path jsonl) throws IOException {
        JsonObject expected;
        try (JsonReader reader = Json.createReader(Files.newBufferedReader(
                jsonl.resolveSibling(name(jsonl) + ".expected.json"), StandardCharsets.UTF_8))) {
            expected = reader.readObject();
        }

        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        int chunks = 0;
        for (String line : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                wire.writeBytes(("data: " + line + "\n\n").getBytes(StandardCharsets.UTF_8));
                chunks++;
            }
        }
        wire.writeBytes("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        byte[] bytes = wire.toByteArray();

        List<String> events = new ArrayList<>();
        EventStreamParser parser = new EventStreamParser((id, type, data) -> {
            assertEquals("message", type);
            events.add(data);
        }, 1 << 20, 1 << 20);
        Random random = new Random(20251122L ^ name(jsonl).hashCode());
        for (int i = 0; i < bytes.length; ) {
            int n = Math.min(bytes.length - i, 1 + random.nextInt(random.nextBoolean() ? 8 : 700));
            parser.feed(ByteBuffer.wrap(bytes, i, n));
            i += n;
        }
        parser.end();
        assertEquals(chunks + 1, events.size(), "one event per chunk, plus [DONE]");
        assertEquals("[DONE]", events.get(events.size() - 1));

        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        String finishReason = null;
        JsonObject usage = null;
        String model = null;
        for (String data : events.subList(0, events.size() - 1)) {
            ChatChunk chunk = ChatChunks.parse(data);
            assertEquals(null, chunk.error());
            if (chunk.content() != null) {
                content.append(chunk.content());
            }
            if (chunk.reasoning() != null) {
                reasoning.append(chunk.reasoning());
            }
            if (chunk.finishReason() != null) {
                finishReason = chunk.finishReason();
            }
            if (chunk.usage() != null) {
                usage = chunk.usage();
            }
            if (chunk.model() != null) {
                model = chunk.model();
            }
        }

        assertEquals(expected.getString("content"), content.toString(), "content");
        assertEquals(expected.getString("reasoning"), reasoning.toString(), "reasoning");
        assertEquals(expected.isNull("finish_reason") ? null : expected.getString("finish_reason"), finishReason,
                "finish_reason");
        assertEquals(expected.get("usage"), usage == null ? JsonValue.NULL : usage, "usage");
        if (expected.containsKey("model") && !expected.isNull("model")) {
            assertEquals(expected.getString("model"), model, "model");
        }
    }
}
