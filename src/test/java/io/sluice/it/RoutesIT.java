package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.InternalServerException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.errors.SseException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.io.File;
import java.io.StringReader;
import java.net.CookieManager;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.RunAsClient;
import org.jboss.arquillian.container.test.api.TargetsContainer;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Black-box tests of model routing (API.md section 10), the OpenAI-compatible endpoint (section 8), one-shot
 * generation (section 9) and the duration limit, on a server of their own ({@code payara-micro-routes} in
 * arquillian.xml): routes from {@code SLUICE_MODELS_FILE}, API keys, {@code SLUICE_STREAM_MAX_SECONDS=8}.
 *
 * <p>Four fake upstreams, each counting its requests: {@code thinking}, {@code fast} and {@code instruct} (the
 * upstream port + 1, 2, 3) and the usual one (the upstream port), which serves the test routes (recorded dialects,
 * failures, paced streams). Nothing listens on the upstream port + 4, the {@code broken} route's. The client of
 * {@code /v1} is the official OpenAI SDK for Java, unmodified, with {@code baseUrl} {@code {root}/v1}.
 */
@ExtendWith(ArquillianExtension.class)
@RunAsClient
class RoutesIT {

    static final int PORT = Integer.getInteger("sluice.it.upstream.port", 18089);
    static final String ALICE = "it-key-alice";
    /** Bob's key is only in the keys file, as its SHA-256. */
    static final String BOB = "it-key-bob";
    /** A paced stream of the {@code paced} route: 40 chunks, 50 ms apart (2 s). */
    static final int PACED = 40;

    static FakeUpstream main;
    static FakeUpstream thinking;
    static FakeUpstream fast;
    static FakeUpstream instruct;

    @ArquillianResource
    URL base;

    /** Writes the routes file the server reads at boot, then deploys the WAR as it is. */
    @Deployment(testable = false)
    @TargetsContainer("payara-micro-routes")
    static WebArchive war() throws Exception {
        Path file = Path.of(System.getProperty("sluice.it.models.file", "target/it-routes/models.json"));
        Files.createDirectories(file.getParent());
        Files.writeString(file, routes().toString());
        return ShrinkWrap.createFromZipFile(WebArchive.class,
                new File(System.getProperty("sluice.war", "target/sluice.war")));
    }

    /** The three typed routes first, then one route per recorded stream and scenario of the main fake upstream. */
    static JsonArray routes() throws Exception {
        JsonArrayBuilder routes = Json.createArrayBuilder()
                .add(route("deep-thinker", "thinking", PORT + 1, "sample:sample-reasoning-field", "key-thinking"))
                .add(route("quick", "fast", PORT + 2, "paced:3:10", "key-fast"))
                .add(route("main-instruct", "instruct", PORT + 3, "sample:sample-usage-chunk", "key-instruct"))
                .add(route("broken", "fast", PORT + 4, "anything", null))
                .add(route("paced", "instruct", PORT, "paced:" + PACED + ":50", null))
                // 7 s: longer than the resume grace (3 s), shorter than the duration limit (8 s)
                .add(route("long", "instruct", PORT, "paced:140:50", null))
                .add(route("slow", "instruct", PORT, "paced:200:100", null));
        for (String status : List.of("400", "401", "429", "500")) {
            routes.add(route("fail-" + status, "instruct", PORT, "fail:" + status, null));
        }
        for (String name : recorded(FakeUpstream.SAMPLES)) {
            routes.add(route(name, "instruct", PORT, "sample:" + name, null));
        }
        if (Files.isDirectory(FakeUpstream.FIXTURES)) {
            for (String name : recorded(FakeUpstream.FIXTURES)) {
                routes.add(route(name, "instruct", PORT, "fixture:" + name, null));
            }
        }
        return routes.build();
    }

    private static JsonObject route(String name, String type, int port, String upstreamModel, String key) {
        var r = Json.createObjectBuilder().add("name", name).add("type", type)
                .add("url", "http://127.0.0.1:" + port + "/v1").add("upstreamModel", upstreamModel);
        if (key != null) {
            r.add("apiKey", key);
        }
        return r.build();
    }

    private static List<String> recorded(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsonl"))
                    .map(n -> n.substring(0, n.length() - 6)).sorted().toList();
        }
    }

    /** Tests start once the server is ready (it warms itself up first, issue 22). */
    @org.junit.jupiter.api.BeforeEach
    void awaitReady() throws Exception {
        Readiness.await(base);
    }

    @BeforeAll
    static void startUpstreams() throws Exception {
        main = new FakeUpstream(PORT);
        thinking = new FakeUpstream(PORT + 1);
        fast = new FakeUpstream(PORT + 2);
        instruct = new FakeUpstream(PORT + 3);
    }

    @AfterAll
    static void stopUpstreams() {
        for (FakeUpstream upstream : new FakeUpstream[] {main, thinking, fast, instruct}) {
            if (upstream != null) {
                upstream.close();
            }
        }
    }

    // --- an unmodified SDK program streams from each route

    @Test
    void theSdkStreamsFromEachRouteByNameAndByTypeAndEachRouteGetsOnlyItsOwn() throws Exception {
        OpenAIClient client = sdk(ALICE);
        Object[][] cases = {
                {"deep-thinker", thinking, "key-thinking"}, {"thinking", thinking, "key-thinking"},
                {"quick", fast, "key-fast"}, {"fast", fast, "key-fast"},
                {"main-instruct", instruct, "key-instruct"}, {"instruct", instruct, "key-instruct"}};
        for (Object[] c : cases) {
            String model = (String) c[0];
            FakeUpstream target = (FakeUpstream) c[1];
            String marker = "route " + model + " " + UUID.randomUUID();
            int before = target.requests();
            Reassembled answer = stream(client, model, marker, false);
            FakeUpstream.Call call = target.call(marker).get(10, TimeUnit.SECONDS);
            assertEquals("Bearer " + c[2], call.authorization, "each route sends its own key");
            assertTrue(target.requests() > before, model + " reached its upstream");
            for (FakeUpstream other : new FakeUpstream[] {main, thinking, fast, instruct}) {
                if (other != target) {
                    assertFalse(other.call(marker).isDone(), model + " reached only its own upstream");
                }
            }
            assertEquals("stop", answer.finishReason, model);
            assertEquals(0, answer.usageChunks, "no usage chunk unless asked for");
            assertFalse(answer.content.isEmpty(), model);
        }
        // the route's upstream model is what goes upstream, whatever name or type the client used
        String marker = "upstream model " + UUID.randomUUID();
        stream(client, "thinking", marker, false);
        assertEquals("sample:sample-reasoning-field", thinking.call(marker).get(10, TimeUnit.SECONDS).body
                .getString("model"));
    }

    @TestFactory
    Stream<DynamicTest> everyRecordedDialectReassemblesExactlyStreamedAndNot() throws Exception {
        List<Path> expectations = new ArrayList<>();
        for (String name : recorded(FakeUpstream.SAMPLES)) {
            expectations.add(FakeUpstream.SAMPLES.resolve(name + ".expected.json"));
        }
        if (!Files.isDirectory(FakeUpstream.FIXTURES)) {
            return Stream.of(DynamicTest.dynamicTest("shared fixtures", () -> Assumptions.abort(
                    FakeUpstream.FIXTURES + " is absent: recorded provider streams skipped")));
        }
        for (String name : recorded(FakeUpstream.FIXTURES)) {
            expectations.add(FakeUpstream.FIXTURES.resolve(name + ".expected.json"));
        }
        return expectations.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            String name = file.getFileName().toString().replace(".expected.json", "");
            JsonObject expected = SseClient.json(Files.readString(file));
            OpenAIClient client = sdk(ALICE);

            Reassembled streamed = stream(client, name, "dialect " + name + " " + UUID.randomUUID(), true);
            assertEquals(expected.getString("content"), streamed.content, "content");
            assertEquals(expected.getString("reasoning"), streamed.reasoning, "reasoning_content");
            assertEquals(expected.getString("finish_reason"), streamed.finishReason, "finish_reason");
            assertUsage(expected, streamed.usage);
            assertEquals(1, streamed.usageChunks, "one usage chunk, the last one, when asked for");

            ChatCompletion whole = client.chat().completions().create(params(name, "whole " + UUID.randomUUID()));
            var choice = whole.choices().get(0);
            assertEquals(expected.getString("content"), choice.message().content().orElse(""), "content");
            assertEquals(expected.getString("reasoning"), extra(choice.message()._additionalProperties(),
                    "reasoning_content"), "reasoning_content");
            assertEquals(expected.getString("finish_reason"), choice.finishReason().asString());
            assertUsage(expected, whole.usage());
            assertTrue(whole.id().startsWith("chatcmpl-"));
            assertEquals(name, whole.model());
        }));
    }

    @Test
    void samplingFieldsAreForwardedUntouchedAndUnknownFieldsIgnored() throws Exception {
        String marker = "sampling " + UUID.randomUUID();
        String body = Json.createObjectBuilder().add("model", "instruct")
                .add("messages", Json.createArrayBuilder().add(Json.createObjectBuilder()
                        .add("role", "system").add("content", "be brief"))
                        .add(Json.createObjectBuilder().add("role", "user").add("content", marker)))
                .add("temperature", 0.25).add("top_p", 0.5).add("max_tokens", 77).add("seed", 7)
                .add("stop", Json.createArrayBuilder().add("END"))
                .add("frobnicate", true).add("stream", false).build().toString();
        HttpResponse<String> response = post("v1/chat/completions", body, Map.of("Authorization", "Bearer " + ALICE));
        assertEquals(200, response.statusCode(), response.body());
        JsonObject sent = instruct.call(marker).get(10, TimeUnit.SECONDS).body;
        assertEquals(0.25, sent.getJsonNumber("temperature").doubleValue());
        assertEquals(0.5, sent.getJsonNumber("top_p").doubleValue());
        assertEquals(77, sent.getInt("max_tokens"));
        assertEquals(7, sent.getInt("seed"));
        assertEquals("END", sent.getJsonArray("stop").getString(0));
        assertFalse(sent.containsKey("frobnicate"), "unknown fields are not forwarded");
        assertTrue(sent.getBoolean("stream"), "the upstream is always streamed");
        assertEquals("system", sent.getJsonArray("messages").getJsonObject(0).getString("role"));
        assertTrue(response.headers().firstValue("X-Sluice-Stream-Id").isPresent());
    }

    // --- errors, in the SDK's own exception types

    @Test
    void errorsReachTheSdkAsItsOwnExceptionTypes() throws Exception {
        OpenAIClient alice = sdk(ALICE);
        BadRequestException unknown = assertThrows(BadRequestException.class,
                () -> alice.chat().completions().create(params("no-such-model", "x")));
        assertEquals("model_not_found", unknown.code().orElse(null));
        assertTrue(unknown.getMessage().contains("main-instruct"), "the 400 lists the known names");
        assertThrows(BadRequestException.class, () -> drain(alice.chat().completions()
                .createStreaming(params("no-such-model", "x"))));

        assertThrows(UnauthorizedException.class, () -> sdk("not-a-key").chat().completions()
                .create(params("instruct", "x")));
        assertTrue(sdk(BOB).models().list().data().size() >= 3, "bob's key, kept as a hash, works");

        // upstream failures before the first token: the status line says what happened
        RateLimitException limited = assertThrows(RateLimitException.class, () -> alice.chat().completions()
                .create(params("fail-429", "x")));
        assertEquals("7", limited.headers().values("Retry-After").get(0), "the upstream's Retry-After");
        assertThrows(RateLimitException.class, () -> drain(alice.chat().completions()
                .createStreaming(params("fail-429", "x"))));
        InternalServerException upstream = assertThrows(InternalServerException.class,
                () -> drain(alice.chat().completions().createStreaming(params("fail-500", "x"))));
        assertEquals(502, upstream.statusCode());
        assertEquals("UPSTREAM_ERROR", upstream.code().orElse(null));
        assertEquals(502, assertThrows(InternalServerException.class, () -> alice.chat().completions()
                .create(params("fail-401", "x"))).statusCode(), "the gateway's upstream key is not the client's");
        assertThrows(BadRequestException.class, () -> alice.chat().completions().create(params("fail-400", "x")),
                "an upstream 400 (a bad sampling value) is the client's");
        assertThrows(InternalServerException.class, () -> alice.chat().completions().create(params("broken", "x")));

        assertThrows(NotFoundException.class, () -> alice.models().retrieve("no-such-model"));
        HttpResponse<String> bad = post("v1/chat/completions", "{\"model\":\"instruct\",\"messages\":[]}",
                Map.of("Authorization", "Bearer " + ALICE));
        assertOpenAiError(bad, 400);
        assertOpenAiError(post("v1/chat/completions", "{\"model\":\"instruct\",\"n\":2,\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"x\"}]}", Map.of("Authorization", "Bearer " + ALICE)), 400);
        assertOpenAiError(post("v1/nothing", "{}", Map.of("Authorization", "Bearer " + ALICE)), 404);
        assertOpenAiError(post("v1/chat/completions", "{}", Map.of()), 401);
    }

    // --- cancellation and stop

    @Test
    void aClientThatLeavesMidStreamHasItsUpstreamCancelledAfterTheResumeGrace() throws Exception {
        String marker = "leaves " + UUID.randomUUID();
        OpenAIClient client = sdk(ALICE);
        client.models().list(); // the SDK's first call loads its classes: not while the stream runs
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw = client.chat().completions().withRawResponse()
                .createStreaming(params("long", marker));
        String streamId = raw.headers().values("X-Sluice-Stream-Id").get(0);
        StreamResponse<ChatCompletionChunk> chunks = raw.parse();
        Iterator<ChatCompletionChunk> it = chunks.stream().iterator();
        assertTrue(it.hasNext());
        it.next();
        long left = System.nanoTime();
        chunks.close(); // the SDK closes the connection

        FakeUpstream.Call call = main.call(marker).get(10, TimeUnit.SECONDS);
        long closed = call.closedByClient.get(15, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(closed - left);
        assertTrue(millis >= 2000 && millis < 3000 + 2500, "upstream closed " + millis + " ms after the client left "
                + "(resume grace 3 s; the server notices the drop at its next write or heartbeat)");
        JsonObject state = awaitEnded(streamId, ALICE);
        assertEquals("stopped", state.getString("status"));
        assertEquals("client_disconnected", state.getString("endReason"));
        assertEquals("completion", state.getString("type"));
    }

    @Test
    void stopWithTheStreamIdOfTheResponseEndsTheSdkStreamAndTheUpstreamRequest() throws Exception {
        String marker = "stopped " + UUID.randomUUID();
        HttpResponseFor<StreamResponse<ChatCompletionChunk>> raw = sdk(BOB).chat().completions().withRawResponse()
                .createStreaming(params("paced", marker));
        String streamId = raw.headers().values("X-Sluice-Stream-Id").get(0);
        try (StreamResponse<ChatCompletionChunk> chunks = raw.parse()) {
            Iterator<ChatCompletionChunk> it = chunks.stream().iterator();
            assertTrue(it.hasNext());
            it.next();
            assertEquals(404, post("api/streams/" + streamId + "/stop", "", Map.of("Authorization", "Bearer "
                    + ALICE)).statusCode(), "alice cannot stop bob's stream");
            HttpResponse<String> stop = post("api/streams/" + streamId + "/stop", "", Map.of("Authorization",
                    "Bearer " + BOB));
            assertEquals(202, stop.statusCode(), stop.body());
            SseException ended = assertThrows(SseException.class, () -> it.forEachRemaining(c -> { }));
            assertEquals("stopped", ended.code().orElse(null));
        }
        main.call(marker).get(10, TimeUnit.SECONDS).closedByClient.get(5, TimeUnit.SECONDS);
        JsonObject state = awaitEnded(streamId, BOB);
        assertEquals("stopped", state.getString("status"));
        assertEquals("user", state.getString("endReason"));
        assertTrue(FakeUpstream.pacedText(PACED).startsWith(state.getString("content")), "the text so far is kept");
    }

    // --- routing of typed streams and chats

    @Test
    void chatsGoToInstructTitlesAndTypedStreamsToFastAndAnUnknownModelChangesNothing() throws Exception {
        HttpClient http = user();
        int fastBefore = fast.requests();
        String marker = "chat " + UUID.randomUUID();
        SseClient chat = SseClient.post(http, uri("api/chat/stream"), "{\"message\":\"" + marker + "\"}");
        assertEquals(200, chat.status, chat.errorBody);
        List<SseClient.Event> events = chat.untilTerminal(30);
        assertEquals("done", SseClient.last(events).name());
        assertNotNull(instruct.call(marker).get(10, TimeUnit.SECONDS), "a chat naming no model goes to instruct");
        await(() -> fast.requests() > fastBefore, "the conversation's title goes to the fast route");

        int before = fast.requests();
        String topic = "topic " + UUID.randomUUID();
        HttpResponse<String> created = send(http, "POST", "api/streams",
                "{\"type\":\"topic_title\",\"input\":\"" + topic + "\"}");
        assertEquals(201, created.statusCode(), created.body());
        assertNotNull(fast.call(topic).get(10, TimeUnit.SECONDS), "a typed stream naming no model goes to fast");
        assertTrue(fast.requests() > before);
        String thinkingTopic = "thinking topic " + UUID.randomUUID();
        assertEquals(201, send(http, "POST", "api/streams", "{\"type\":\"topic_title\",\"model\":\"thinking\","
                + "\"input\":\"" + thinkingTopic + "\"}").statusCode());
        assertNotNull(thinking.call(thinkingTopic).get(10, TimeUnit.SECONDS), "a type name picks its first route");

        HttpResponse<String> unknown = send(http, "POST", "api/chat/stream",
                "{\"message\":\"nothing\",\"model\":\"gpt-5-turbo\"}");
        assertEquals(400, unknown.statusCode());
        assertTrue(unknown.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
        JsonObject problem = SseClient.json(unknown.body());
        assertEquals("urn:sluice:problem:unknown-model", problem.getString("type"));
        assertTrue(problem.getString("detail").contains("deep-thinker"), problem.getString("detail"));
        JsonArray conversations = array(send(http, "GET", "api/conversations", null));
        assertEquals(1, conversations.size(), "the refused turn saved nothing");
    }

    @Test
    void oneRouteFailingLeavesTheOthersWorkingAndIsCountedUnderItsName() throws Exception {
        OpenAIClient client = sdk(ALICE);
        for (int i = 0; i < 2; i++) {
            assertThrows(OpenAIServiceException.class, () -> client.chat().completions()
                    .create(params("broken", "down " + UUID.randomUUID())));
        }
        Reassembled ok = stream(client, "instruct", "still up " + UUID.randomUUID(), false);
        assertEquals("Three primary colours: red, yellow and blue.", ok.content);

        JsonObject routes = SseClient.json(send(user(), "GET", "api/metrics", null).body()).getJsonObject("routes");
        JsonObject broken = routes.getJsonObject("broken");
        assertTrue(broken.getInt("failures") >= 2, broken.toString());
        assertTrue(broken.getJsonObject("failuresByCode").getInt("UPSTREAM_UNAVAILABLE") >= 2, broken.toString());
        JsonObject healthy = routes.getJsonObject("main-instruct");
        assertTrue(healthy.getInt("completed") >= 1, healthy.toString());
        assertEquals(0, healthy.getInt("failures"), healthy.toString());
    }

    @Test
    void modelsAreListedByNameAndTypeWithoutUrlsOrKeys() throws Exception {
        HttpResponse<String> response = send(user(), "GET", "api/models", null);
        assertEquals(200, response.statusCode());
        assertFalse(response.body().contains("127.0.0.1") || response.body().contains("key-"), response.body());
        JsonArray models = array(response);
        assertEquals(Json.createObjectBuilder().add("name", "deep-thinker").add("type", "thinking").build(),
                models.getJsonObject(0));
        assertEquals("quick", models.getJsonObject(1).getString("name"));
        assertEquals("fast", models.getJsonObject(1).getString("type"));
        assertEquals("instruct", models.getJsonObject(2).getString("type"));
        List<String> sdk = sdk(ALICE).models().list().data().stream().map(Model::id).toList();
        assertEquals(models.size(), sdk.size());
        assertEquals("deep-thinker", sdk.get(0));
        assertEquals("main-instruct", sdk(ALICE).models().retrieve("main-instruct").id());
    }

    // --- one-shot generation and the duration limit

    @Test
    void generateAnswersOneJsonObjectOrAnEventStreamAlwaysStreamedUpstream() throws Exception {
        HttpClient http = user();
        String marker = "generate " + UUID.randomUUID();
        HttpResponse<String> json = send(http, "POST", "api/generate",
                "{\"prompt\":\"" + marker + "\",\"model\":\"fast\",\"systemPrompt\":\"terse\"}");
        assertEquals(200, json.statusCode(), json.body());
        JsonObject answer = SseClient.json(json.body());
        assertEquals("w0 w1 w2 ", answer.getString("text"));
        assertEquals("", answer.getString("reasoning"));
        assertEquals("completed", answer.getString("status"));
        assertEquals("stop", answer.getString("finishReason"));
        assertEquals(answer.getString("streamId"), json.headers().firstValue("X-Sluice-Stream-Id").orElse(null));
        JsonObject sent = fast.call(marker).get(10, TimeUnit.SECONDS).body;
        assertTrue(sent.getBoolean("stream"), "always streamed upstream");
        assertEquals("terse", sent.getJsonArray("messages").getJsonObject(0).getString("content"));

        String reasoned = "generate sse " + UUID.randomUUID();
        SseClient sse = SseClient.post(http, uri("api/generate"), "{\"prompt\":\"" + reasoned
                + "\",\"model\":\"deep-thinker\"}");
        assertEquals(200, sse.status, sse.errorBody);
        List<SseClient.Event> events = sse.untilTerminal(30);
        assertEquals("generate", events.get(0).data().getString("type"));
        assertEquals("done", SseClient.last(events).name());
        JsonObject expected = SseClient.json(Files.readString(FakeUpstream.SAMPLES
                .resolve("sample-reasoning-field.expected.json")));
        assertEquals(expected.getString("content"), SseClient.deltas(events));
        assertEquals(expected.getString("reasoning"), SseClient.reasonings(events));

        HttpResponse<String> blank = send(http, "POST", "api/generate", "{\"prompt\":\" \"}");
        assertEquals(400, blank.statusCode());
        assertEquals(400, send(http, "POST", "api/generate", "{\"prompt\":\"x\",\"model\":\"nope\"}").statusCode());
    }

    /**
     * API.md section 13: seed 004's {@code POST /api/v1/ai/generate} needs a known bearer key where keys are set, as
     * {@code /v1} does, and the key's user owns the generation.
     */
    @Test
    void seedGenerateNeedsAKnownBearerKeyWhereKeysAreSetAndTheKeysUserOwnsIt() throws Exception {
        String refused = "no key " + UUID.randomUUID();
        for (Map<String, String> headers : List.of(Map.<String, String>of(), Map.of("Authorization", "Bearer nope"),
                Map.of("Authorization", "Basic " + ALICE))) {
            HttpResponse<String> r = post("api/v1/ai/generate?stream=true", "{\"prompt\":\"" + refused + "\"}",
                    headers);
            assertEquals(401, r.statusCode(), headers + ": " + r.body());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                    r.headers().toString());
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(null));
            assertEquals("urn:sluice:problem:unauthorized", SseClient.json(r.body()).getString("type"));
        }
        String marker = "with key " + UUID.randomUUID();
        SseClient sse = SseClient.post(user(), uri("api/v1/ai/generate?stream=true"),
                "{\"prompt\":\"" + marker + "\",\"model\":\"fast\"}", Map.of("Authorization", "Bearer " + BOB));
        assertEquals(200, sse.status, sse.errorBody);
        List<SseClient.Event> events = sse.untilTerminal(30);
        assertEquals("w0 w1 w2 ", SseClient.deltas(events));
        assertEquals("done", SseClient.last(events).name());
        String streamId = events.get(0).data().getString("streamId");
        assertEquals(200, get("api/streams/" + streamId, Map.of("Authorization", "Bearer " + BOB)).statusCode(),
                "bob's key owns it");
        assertEquals(404, get("api/streams/" + streamId, Map.of("Authorization", "Bearer " + ALICE)).statusCode());
        assertNotNull(fast.call(marker).get(10, TimeUnit.SECONDS));
        assertEquals(200, post("api/v1/ai/generate", "{\"prompt\":\"json " + UUID.randomUUID() + "\",\"model\":"
                + "\"fast\"}", Map.of("Authorization", "Bearer " + ALICE)).statusCode(), "the JSON answer");
        Thread.sleep(200);
        assertEquals(List.of(), fast.callsWith(refused), "a refused request reaches no upstream");
        assertEquals(List.of(), instruct.callsWith(refused));
        assertEquals(List.of(), main.callsWith(refused));
    }

    @Test
    void aGenerationPastTheDurationLimitEndsWithStreamTimeoutAndItsTextSavedAsPartial() throws Exception {
        HttpClient http = user();
        String marker = "slow " + UUID.randomUUID();
        long start = System.nanoTime();
        SseClient sse = SseClient.post(http, uri("api/chat/stream"), "{\"message\":\"" + marker
                + "\",\"model\":\"slow\"}");
        assertEquals(200, sse.status, sse.errorBody);
        List<SseClient.Event> events = sse.untilTerminal(30);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        SseClient.Event error = SseClient.last(events);
        assertEquals("error", error.name());
        assertEquals("STREAM_TIMEOUT", error.data().getString("code"));
        assertTrue(seconds >= 7 && seconds < 14, "ended after " + seconds + " s (limit 8 s)");
        String text = SseClient.deltas(events);
        assertFalse(text.isEmpty());
        assertTrue(FakeUpstream.pacedText(200).startsWith(text), "the text so far");
        main.call(marker).get(10, TimeUnit.SECONDS).closedByClient.get(5, TimeUnit.SECONDS);

        String conversationId = events.get(0).data().getString("conversationId");
        JsonObject saved = array(send(http, "GET", "api/conversations/" + conversationId + "/messages", null))
                .getJsonObject(1);
        assertEquals("partial", saved.getString("status"));
        assertEquals("STREAM_TIMEOUT", saved.getString("endReason"));
        assertEquals(text, saved.getString("content"));

        // the OpenAI endpoint says so too, and asks the SDK not to retry
        InternalServerException timeout = assertThrows(InternalServerException.class, () -> sdk(ALICE).chat()
                .completions().create(params("slow", "slow again " + UUID.randomUUID())));
        assertEquals(504, timeout.statusCode());
        assertEquals("STREAM_TIMEOUT", timeout.code().orElse(null));
        assertEquals("false", timeout.headers().values("X-Should-Retry").get(0));
    }

    // --- helpers

    /** What an SDK program gets from one streamed call. */
    record Reassembled(String content, String reasoning, String finishReason, Optional<CompletionUsage> usage,
                       int usageChunks) {
    }

    private Reassembled stream(OpenAIClient client, String model, String marker, boolean usage) {
        ChatCompletionCreateParams.Builder p = params(model, marker).toBuilder();
        if (usage) {
            p.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build());
        }
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        String finish = null;
        Optional<CompletionUsage> used = Optional.empty();
        int usageChunks = 0;
        boolean usageLast = true;
        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions().createStreaming(p.build())) {
            for (Iterator<ChatCompletionChunk> it = chunks.stream().iterator(); it.hasNext(); ) {
                ChatCompletionChunk chunk = it.next();
                assertEquals("chat.completion.chunk", chunk._object_().asString().orElse(null));
                if (chunk.choices().isEmpty()) { // the usage chunk (its usage is null when the upstream gave none)
                    used = chunk.usage();
                    usageChunks++;
                    usageLast = !it.hasNext();
                }
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(content::append);
                    reasoning.append(extra(choice.delta()._additionalProperties(), "reasoning_content"));
                    if (choice.finishReason().isPresent()) {
                        finish = choice.finishReason().get().asString();
                    }
                }
            }
        }
        assertTrue(usageLast, "the usage chunk comes last");
        return new Reassembled(content.toString(), reasoning.toString(), finish, used, usageChunks);
    }

    private static String extra(Map<String, JsonValue> properties, String key) {
        JsonValue value = properties.get(key);
        if (value == null) {
            return "";
        }
        Optional<String> text = value.asString();
        return text.orElse("");
    }

    private static void assertUsage(JsonObject expected, Optional<CompletionUsage> usage) {
        if (expected.isNull("usage")) {
            assertTrue(usage.isEmpty(), "no usage");
            return;
        }
        JsonObject u = expected.getJsonObject("usage");
        assertTrue(usage.isPresent(), "usage");
        assertEquals(u.getInt("prompt_tokens"), usage.get().promptTokens());
        assertEquals(u.getInt("completion_tokens"), usage.get().completionTokens());
        assertEquals(u.getInt("total_tokens"), usage.get().totalTokens());
    }

    private static void drain(StreamResponse<ChatCompletionChunk> chunks) {
        try (chunks) {
            chunks.stream().forEach(c -> { });
        }
    }

    private static ChatCompletionCreateParams params(String model, String message) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(message).build();
    }

    private OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(uri("v1").toString()).apiKey(key).maxRetries(0)
                .timeout(Duration.ofSeconds(30)).build();
    }

    private JsonObject awaitEnded(String streamId, String key) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            HttpResponse<String> r = get("api/streams/" + streamId, Map.of("Authorization", "Bearer " + key));
            assertEquals(200, r.statusCode(), r.body());
            JsonObject state = SseClient.json(r.body());
            if (!state.isNull("endedAt")) {
                return state;
            }
            assertTrue(System.nanoTime() < deadline, "the stream did not end: " + state);
            Thread.sleep(100);
        }
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(50);
        }
    }

    private static void assertOpenAiError(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonObject error = SseClient.json(response.body()).getJsonObject("error");
        assertFalse(error.getString("message").isBlank());
        assertFalse(error.getString("type").isBlank());
        assertTrue(error.containsKey("code") && error.containsKey("param"), error.toString());
    }

    private HttpClient user() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path);
    }

    private HttpResponse<String> send(HttpClient http, String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String json, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        headers.forEach(b::header);
        return user().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET();
        headers.forEach(b::header);
        return user().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonArray array(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        return Json.createReader(new StringReader(response.body())).readArray();
    }
}
