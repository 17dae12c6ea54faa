package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Black-box tests of API.md section 13: clients written to the seeds' own wire shapes work unchanged. Each alias is
 * driven with the seeds' exact bodies: seed 001's resume by {@code conversationId} and {@code offset} (sent as
 * {@code fetch} sends a string body, {@code text/plain}) and its unload beacon {@code {"conversationId"}} in the three
 * encodings {@code navigator.sendBeacon} can send; seed 003's type names; seed 004's
 * {@code POST /api/v1/ai/generate?stream=true {"prompt"}} (and its {@code fetch} and k6 bodies with
 * {@code "stream": true}); and seed 003's chain, a conversation's title then its topic title. The deployed server runs
 * with a 2 s heartbeat, a 3 s resume grace and a 2 s unload grace, and no API keys (RoutesIT, whose server has keys,
 * checks that the generate alias then needs one). Every test is its own anonymous user.
 */
class SeedClientsIT extends BlackBoxTest {

    /** SLUICE_UNLOAD_GRACE_SECONDS of the tests, in ms. */
    private static final long UNLOAD_GRACE_MS = 2000;
    /** "Within 1 s", plus what the test itself needs to notice (its own HTTP round trip, queue hand-offs). */
    private static final long ONE_SECOND_MS = 1000 + 250;
    /** What a browser's {@code fetch} and {@code navigator.sendBeacon} send with a string body. */
    private static final String TEXT_PLAIN = "text/plain;charset=UTF-8";

    // --- seed 001: resume by conversationId and offset

    @Test
    void resumeByConversationIdAndOffsetSendsExactlyTheRestOfTheUpstreamText() throws Exception {
        User user = new User();
        String expected = FakeUpstream.pacedText(120);
        SseClient first = user.chat("resume by conversation " + UUID.randomUUID(), "paced:120:40", null);
        List<SseClient.Event> got = first.takeThenDisconnect(6, 20);
        String conversationId = got.get(0).data().getString("conversationId");
        StringBuilder text = new StringBuilder(SseClient.deltas(got));

        // cut twice more, once asking from inside a delta (the first event then carries the rest of that delta)
        for (int round = 0; round < 2; round++) {
            Thread.sleep(200); // the generation goes on while nobody follows
            int offset = round == 1 ? text.length() - 1 : text.length();
            text.setLength(offset);
            SseClient resumed = user.resume(conversationId, offset);
            got = resumed.takeThenDisconnect(5, 20);
            assertTrue(got.stream().noneMatch(SeedClientsIT::isTerminal), "the stream ended too early: " + got);
            String rest = SseClient.deltas(got);
            assertTrue(expected.startsWith(text + rest), "from offset " + offset + ": " + rest);
            text.append(rest);
        }
        Thread.sleep(200);
        int offset = text.length();
        SseClient last = user.resume(conversationId, offset);
        List<SseClient.Event> rest = SseClient.withoutPings(last.untilTerminal(30));
        assertTrue(last.awaitEnd(5), "the response ends after the terminal event");
        assertEquals(expected.substring(offset), SseClient.deltas(rest),
                "the deltas after the offset are exactly the rest of the upstream's text");
        assertEquals("done", SseClient.last(rest).name());
        assertTrue(rest.get(rest.size() - 2).data().getBoolean("isFinal"));

        // ended but retained: the conversation's latest chat stream, from any offset up to its length
        SseClient again = user.resume(conversationId, 17);
        List<SseClient.Event> replay = SseClient.withoutPings(again.untilTerminal(10));
        assertEquals(expected.substring(17), SseClient.deltas(replay));
        assertProblem(user.send("POST", "api/chat/resume", TEXT_PLAIN, resumeBody(conversationId,
                expected.length() + 1)), 400, "an offset beyond the text");
        assertEquals(expected, user.savedAnswer(conversationId).getString("content"));
    }

    @Test
    void resumeByConversationIdFollowsItsRunningChatStreamAndALaterTurnsOnceItRuns() throws Exception {
        User user = new User();
        List<SseClient.Event> firstTurn = user.chat("first turn " + UUID.randomUUID(), "paced:3:5", null)
                .untilTerminal(30);
        String conversationId = firstTurn.get(0).data().getString("conversationId");
        SseClient second = user.chat("second turn " + UUID.randomUUID(), "paced:60:40", conversationId);
        String secondId = second.take(1, 20).get(0).data().getString("streamId");
        second.disconnect();

        SseClient resumed = user.resume(conversationId, 0);
        List<SseClient.Event> events = SseClient.withoutPings(resumed.untilTerminal(30));
        assertEquals(secondId, events.get(0).data().getString("streamId"), "the running turn, not the first one");
        assertEquals(FakeUpstream.pacedText(60), SseClient.deltas(events));
        assertEquals("done", SseClient.last(events).name());
    }

    @Test
    void streamIdWinsOverConversationIdAndAConversationWithoutChatStreamIsNotFound() throws Exception {
        User user = new User();
        List<SseClient.Event> one = user.chat("one " + UUID.randomUUID(), "paced:4:5", null).untilTerminal(30);
        List<SseClient.Event> two = user.chat("two " + UUID.randomUUID(), "paced:6:5", null).untilTerminal(30);
        String streamOfOne = one.get(0).data().getString("streamId");
        String conversationOfTwo = two.get(0).data().getString("conversationId");
        SseClient both = SseClient.open(user.http, user.post("api/chat/resume", TEXT_PLAIN, Json.createObjectBuilder()
                .add("streamId", streamOfOne).add("conversationId", conversationOfTwo).add("offset", 0).build()
                .toString()));
        assertEquals(200, both.status, both.errorBody);
        assertEquals(FakeUpstream.pacedText(4), SseClient.deltas(both.untilTerminal(10)), "the named stream");

        HttpResponse<String> created = user.send("POST", "api/conversations", "application/json", "{}");
        assertEquals(201, created.statusCode(), created.body());
        String empty = SseClient.json(created.body()).getString("id");
        HttpResponse<String> none = user.send("POST", "api/chat/resume", TEXT_PLAIN, resumeBody(empty, 0));
        assertProblem(none, 404, "a conversation without a chat stream");
        assertTrue(SseClient.json(none.body()).getString("detail").contains("no chat stream"), none.body());
        assertEquals(204, user.send("POST", "api/chat/abort", TEXT_PLAIN,
                "{\"conversationId\":\"" + empty + "\"}").statusCode(), "nothing to abort is not an error");
    }

    // --- seed 001: the unload beacon by conversationId

    /** The three bodies navigator.sendBeacon can send, with seed 001's fields. */
    enum Beacon {
        TEXT_PLAIN_JSON(TEXT_PLAIN),
        APPLICATION_JSON("application/json"),
        FORM_FIELDS("application/x-www-form-urlencoded");

        final String contentType;

        Beacon(String contentType) {
            this.contentType = contentType;
        }

        /** Seed 001's {@code JSON.stringify({conversationId})}, with a reason when one is given. */
        String body(String conversationId, String reason) {
            if (this == FORM_FIELDS) {
                return "conversationId=" + URLEncoder.encode(conversationId, StandardCharsets.UTF_8)
                        + (reason == null ? "" : "&reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8));
            }
            return reason == null ? "{\"conversationId\":\"" + conversationId + "\"}"
                    : Json.createObjectBuilder().add("conversationId", conversationId).add("reason", reason).build()
                    .toString();
        }
    }

    @TestFactory
    Stream<DynamicTest> beaconByConversationIdWithoutReasonClosesTheUpstreamWhenTheUnloadGraceRunsOut() {
        return Stream.of(Beacon.values()).map(beacon -> DynamicTest.dynamicTest(beacon.name(),
                () -> unloadByConversation(beacon)));
    }

    private void unloadByConversation(Beacon beacon) throws Exception {
        User user = new User();
        String marker = "seed unload " + beacon + " " + UUID.randomUUID();
        SseClient tab = user.chat(marker, "paced:250:40", null);
        List<SseClient.Event> seen = tab.take(6, 20);
        String conversationId = seen.get(0).data().getString("conversationId");
        String streamId = seen.get(0).data().getString("streamId");
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);

        long beaconAt = System.nanoTime();
        HttpResponse<String> answer = user.send("POST", "api/chat/abort", beacon.contentType,
                beacon.body(conversationId, null));
        assertEquals(204, answer.statusCode(), answer.body());
        tab.disconnect(); // the page is gone

        long closedMillis = call.closedMillisAfter(beaconAt, 10);
        assertTrue(closedMillis >= UNLOAD_GRACE_MS - 250,
                "reason unload by default: the grace is honoured; upstream closed " + closedMillis + " ms after");
        assertTrue(closedMillis <= UNLOAD_GRACE_MS + ONE_SECOND_MS,
                "closed within 1 s after the grace ran out: " + closedMillis + " ms after the beacon");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");
        JsonObject state = user.awaitStatus(streamId, "stopped");
        assertEquals("unload", state.getString("endReason"), state::toString);
        JsonObject saved = user.savedAnswer(conversationId);
        assertEquals("stopped", saved.getString("status"));
        assertTrue(saved.getString("content").startsWith(SseClient.deltas(seen)), "the text so far is kept");
    }

    @TestFactory
    Stream<DynamicTest> beaconByConversationIdWithAnotherReasonStopsEveryRunningChatAtOnce() {
        return Stream.of(Beacon.values()).map(beacon -> DynamicTest.dynamicTest(beacon.name(),
                () -> closeByConversation(beacon)));
    }

    private void closeByConversation(Beacon beacon) throws Exception {
        User user = new User();
        String first = "seed close " + beacon + " " + UUID.randomUUID();
        SseClient a = user.chat(first, "paced:250:40", null);
        List<SseClient.Event> seenA = new ArrayList<>(a.take(4, 20));
        String conversationId = seenA.get(0).data().getString("conversationId");
        String second = "seed close too " + beacon + " " + UUID.randomUUID();
        SseClient b = user.chat(second, "paced:250:40", conversationId); // a second turn while the first runs
        List<SseClient.Event> seenB = new ArrayList<>(b.take(4, 20));
        FakeUpstream.Call callA = upstream.call(first).get(5, TimeUnit.SECONDS);
        FakeUpstream.Call callB = upstream.call(second).get(5, TimeUnit.SECONDS);

        long beaconAt = System.nanoTime();
        HttpResponse<String> answer = user.send("POST", "api/chat/abort", beacon.contentType,
                beacon.body(conversationId, "closed"));
        assertEquals(204, answer.statusCode(), answer.body());
        seenA.addAll(SseClient.withoutPings(a.untilTerminal(5)));
        seenB.addAll(SseClient.withoutPings(b.untilTerminal(5)));
        long stoppedMillis = millisSince(beaconAt);
        for (List<SseClient.Event> seen : List.of(seenA, seenB)) {
            SseClient.Event stopped = SseClient.last(seen);
            assertEquals("stopped", stopped.name(), () -> "terminal event " + stopped);
            assertEquals("closed", stopped.data().getString("reason"));
        }
        assertTrue(stoppedMillis <= ONE_SECOND_MS, "both stopped " + stoppedMillis + " ms after the beacon");
        for (FakeUpstream.Call call : List.of(callA, callB)) {
            long closedMillis = call.closedMillisAfter(beaconAt, 5);
            assertTrue(closedMillis <= ONE_SECOND_MS, "upstream closed " + closedMillis + " ms after the beacon");
            assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");
        }
    }

    // --- ownership and bad bodies

    @Test
    void anotherUsersConversationIsNotFoundForResumeAndAbortAndKeepsStreaming() throws Exception {
        User alice = new User();
        User bob = new User();
        String marker = "alice's " + UUID.randomUUID();
        SseClient tab = alice.chat(marker, "paced:60:40", null);
        List<SseClient.Event> seen = new ArrayList<>(tab.take(3, 20));
        String conversationId = seen.get(0).data().getString("conversationId");

        HttpResponse<String> unknown = bob.send("POST", "api/chat/resume", TEXT_PLAIN,
                resumeBody(UUID.randomUUID().toString(), 0));
        assertProblem(unknown, 404, "an unknown conversation");
        HttpResponse<String> foreign = bob.send("POST", "api/chat/resume", TEXT_PLAIN, resumeBody(conversationId, 0));
        assertProblem(foreign, 404, "alice's conversation, resumed by bob");
        assertEquals(SseClient.json(unknown.body()).getString("detail"), SseClient.json(foreign.body())
                .getString("detail"), "exactly like an unknown id");
        for (Beacon beacon : Beacon.values()) {
            assertProblem(bob.send("POST", "api/chat/abort", beacon.contentType, beacon.body(conversationId, "x")),
                    404, "alice's conversation, aborted by bob as " + beacon);
        }
        seen.addAll(SseClient.withoutPings(tab.untilTerminal(30)));
        assertEquals("done", SseClient.last(seen).name(), "bob's requests changed nothing");
        assertEquals(FakeUpstream.pacedText(60), SseClient.deltas(seen));
    }

    @Test
    void badBodiesAreProblemsAndChangeNothing() throws Exception {
        User user = new User();
        SseClient tab = user.chat("bad bodies " + UUID.randomUUID(), "paced:40:40", null);
        List<SseClient.Event> seen = new ArrayList<>(tab.take(2, 20));
        String conversationId = seen.get(0).data().getString("conversationId");

        for (String body : List.of("{}", "{\"offset\":3}", "{\"conversationId\":\"  \",\"offset\":0}", "[]", "x",
                "{\"conversationId\":7}")) {
            assertProblem(user.send("POST", "api/chat/resume", TEXT_PLAIN, body), 400, "resume " + body);
        }
        assertProblem(user.send("POST", "api/chat/resume", "application/json",
                "{\"conversationId\":\"" + conversationId + "\",\"offset\":-1}"), 400, "a negative offset");
        assertProblem(user.send("POST", "api/chat/resume", "application/json",
                "{\"conversationId\":\"" + conversationId + "\",\"offset\":100000}"), 400, "beyond the text so far");
        for (String body : List.of("{}", "{\"reason\":\"unload\"}", "{\"conversationId\":\"\"}", "not json")) {
            assertProblem(user.send("POST", "api/chat/abort", TEXT_PLAIN, body), 400, "abort " + body);
        }
        assertProblem(user.send("POST", "api/chat/abort", "application/x-www-form-urlencoded", "reason=closed"), 400,
                "a form without either id");
        assertProblem(user.send("POST", "api/chat/abort", TEXT_PLAIN, Json.createObjectBuilder()
                .add("conversationId", conversationId).add("reason", "r".repeat(65)).build().toString()), 400,
                "a reason over 64 characters");
        assertProblem(user.send("POST", "api/chat/abort", TEXT_PLAIN, "{\"conversationId\":\"" + conversationId
                + "\",\"pad\":\"" + "p".repeat(5000) + "\"}"), 413, "a beacon over 4 KiB");

        seen.addAll(SseClient.withoutPings(tab.untilTerminal(30)));
        assertEquals("done", SseClient.last(seen).name(), "the refused requests changed nothing");
        assertEquals(FakeUpstream.pacedText(40), SseClient.deltas(seen));
    }

    // --- seed 003: the type names

    @Test
    void seedTypeNamesStartTheCanonicalTypesWhichEveryAnswerNames() throws Exception {
        User user = new User();
        List<SseClient.Event> turn = user.chat("How do glaciers carve fjords? " + UUID.randomUUID(), "paced:3:5", null)
                .untilTerminal(30);
        String conversationId = turn.get(0).data().getString("conversationId");
        // the title that the first answer starts, first (so that it cannot overwrite the alias's below)
        user.awaitConversation(conversationId, c -> "w0 w1 w2".equals(c.getString("title", null)));

        String input = "seed topic " + UUID.randomUUID();
        JsonObject topic = user.create(Json.createObjectBuilder().add("type", "topic_title_generation")
                .add("input", input).add("model", "say:150:**Glaciers**|%20and|%20fjords.").build());
        assertEquals("topic_title", topic.getString("type"), "the answer names the canonical type");
        String topicId = topic.getString("streamId");
        JsonObject listed = find(user.array("api/streams?status=active"), topicId);
        assertNotNull(listed, "running and listed");
        assertEquals("topic_title", listed.getString("type"));

        JsonObject title = user.create(Json.createObjectBuilder().add("type", "conversation_title_generation")
                .add("relatedId", conversationId).add("model", "say:50:Glacial|%20Fjords").build());
        assertEquals("conversation_title", title.getString("type"));
        assertEquals(conversationId, title.getString("relatedId"));

        for (String[] expected : List.of(new String[] {topicId, "topic_title", "**Glaciers** and fjords."},
                new String[] {title.getString("streamId"), "conversation_title", "Glacial Fjords"})) {
            List<SseClient.Event> events = SseClient.withoutPings(user.follow(expected[0]).untilTerminal(20));
            assertEquals(expected[1], events.get(0).data().getString("type"), "the stream event names it");
            assertEquals("done", SseClient.last(events).name(), "it completes");
            assertEquals(expected[2], SseClient.deltas(events));
            JsonObject state = user.json("api/streams/" + expected[0]);
            assertEquals(expected[1], state.getString("type"), "GET /api/streams/{id} names it");
            assertEquals("completed", state.getString("status"));
        }
        assertTrue(user.json("api/streams/" + topicId).isNull("conversationId"),
                "a client's topic_title stream belongs to no conversation");
        assertEquals("Glacial Fjords", user.awaitConversation(conversationId, c -> "Glacial Fjords".equals(
                c.getString("title", null))).getString("title"), "the alias titled the conversation");
        for (String type : List.of("chat_generation", "CONVERSATION_TITLE_GENERATION", "title_generation")) {
            assertProblem(user.send("POST", "api/streams", "application/json", Json.createObjectBuilder()
                    .add("type", type).add("input", "x").build().toString()), 400, type);
        }
    }

    // --- seed 004: POST /api/v1/ai/generate

    @Test
    void generateWithStreamTrueInTheQueryIsTheEventStreamWhateverTheAcceptHeader() throws Exception {
        User user = new User();
        for (String accept : new String[] {null, "application/json", "text/event-stream", "*/*"}) {
            String prompt = "seed generate " + accept + " " + UUID.randomUUID();
            HttpRequest.Builder request = user.request("api/v1/ai/generate?stream=true", "application/json",
                    Json.createObjectBuilder().add("prompt", prompt).build().toString());
            if (accept != null) {
                request.header("Accept", accept);
            }
            SseClient sse = SseClient.open(user.http, request.build());
            assertEquals(200, sse.status, accept + ": " + sse.errorBody);
            assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"),
                    "Accept " + accept + ": " + sse.headers.firstValue("Content-Type"));
            assertSeedEventStream(sse, FakeUpstream.NO_MODEL_TEXT);
            assertNotNull(upstream.call(prompt).get(5, TimeUnit.SECONDS), "one generation upstream");
        }
    }

    @Test
    void generateWithStreamTrueInTheBodyIsTheEventStreamAndWithoutItTheJsonObject() throws Exception {
        User user = new User();
        // seed 004's fetch and k6 bodies: {"prompt","stream":true} without the query parameter
        String prompt = "写一段故事 " + UUID.randomUUID();
        SseClient sse = SseClient.open(user.http, user.request("api/v1/ai/generate", "application/json",
                Json.createObjectBuilder().add("prompt", prompt).add("stream", true).build().toString()).build());
        assertEquals(200, sse.status, sse.errorBody);
        assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertSeedEventStream(sse, FakeUpstream.NO_MODEL_TEXT);

        for (String[] shape : new String[][] {{"api/v1/ai/generate?stream=false", "{\"prompt\":\"%s\"}"},
                {"api/v1/ai/generate", "{\"prompt\":\"%s\"}"},
                {"api/v1/ai/generate", "{\"prompt\":\"%s\",\"stream\":false}"},
                {"api/v1/ai/generate?stream=false", "{\"prompt\":\"%s\",\"stream\":true}"}}) {
            String marker = "json " + UUID.randomUUID();
            HttpRequest request = user.request(shape[0], "application/json", String.format(shape[1], marker))
                    .header("Accept", "text/event-stream").build();
            HttpResponse<String> json = user.http.send(request, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, json.statusCode(), json.body());
            assertTrue(json.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                    shape[0] + " " + shape[1] + ": the JSON object whatever Accept says");
            JsonObject answer = SseClient.json(json.body());
            assertEquals(FakeUpstream.NO_MODEL_TEXT, answer.getString("text"));
            assertEquals("completed", answer.getString("status"));
            assertEquals(answer.getString("streamId"), json.headers().firstValue("X-Sluice-Stream-Id").orElse(null));
            assertTrue(upstream.call(marker).get(5, TimeUnit.SECONDS).body.getBoolean("stream"),
                    "always streamed upstream");
        }
    }

    @Test
    void generateRefusesBadRequestsWithProblems() throws Exception {
        User user = new User();
        String refused = "refused " + UUID.randomUUID();
        assertProblem(user.send("POST", "api/v1/ai/generate?stream=true", "application/json", "{\"prompt\":\" \"}"),
                400, "a blank prompt");
        assertProblem(user.send("POST", "api/v1/ai/generate?stream=maybe", "application/json",
                "{\"prompt\":\"" + refused + "\"}"), 400, "stream neither true nor false");
        assertProblem(user.send("POST", "api/v1/ai/generate", "application/json",
                "{\"prompt\":\"" + refused + "\",\"stream\":\"yes\"}"), 400, "a body's stream that is not a boolean");
        assertProblem(user.send("POST", "api/v1/ai/generate", "application/json", "{\"prompt\":"), 400,
                "malformed JSON");
        assertProblem(user.send("POST", "api/v1/ai/generate?stream=true", "text/plain",
                "{\"prompt\":\"" + refused + "\"}"), 415, "not JSON");
        assertProblem(user.send("POST", "api/v1/ai/generate?stream=true", "application/json",
                "{\"prompt\":\"" + "p".repeat(70_000) + "\"}"), 413, "over SLUICE_REQUEST_MAX_BYTES");
        assertProblem(user.send("GET", "api/v1/ai/generate", null, null), 405, "GET");
        Thread.sleep(200);
        assertEquals(List.of(), upstream.callsWith(refused), "nothing reached the upstream");
    }

    // --- seed 003's chain: the conversation title, then the topic title

    @Test
    void aConversationsTitleThenItsTopicTitleRunAndTheConversationEndsWithATopic() throws Exception {
        User user = new User();
        String question = "How do rivers shape valleys? " + UUID.randomUUID();
        // the chat's model answers the title and topic streams too (the single upstream): 1 s each
        String model = "say:300:**Rivers**|%20and|%20valleys|.";
        List<SseClient.Event> turn = user.chat(question, model, null).untilTerminal(30);
        assertEquals("done", SseClient.last(turn).name());
        String conversationId = turn.get(0).data().getString("conversationId");

        String titleStream = null;
        String topicStream = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonObject conversation = user.json("api/conversations/" + conversationId);
        while (conversation.isNull("topic") && System.nanoTime() < deadline) {
            for (JsonValue v : user.array("api/streams?status=active")) {
                JsonObject s = v.asJsonObject();
                if (conversationId.equals(s.getString("relatedId", null))) {
                    if ("conversation_title".equals(s.getString("type"))) {
                        titleStream = s.getString("id");
                    } else if ("topic_title".equals(s.getString("type"))) {
                        topicStream = s.getString("id");
                    }
                }
            }
            Thread.sleep(100);
            conversation = user.json("api/conversations/" + conversationId);
        }
        assertEquals("Rivers and valleys", conversation.getString("title"), "the title, cleaned");
        assertEquals("Rivers and valleys", conversation.getString("topic", null), "the topic, cleaned: " + conversation);
        assertNotNull(titleStream, "a conversation_title stream ran for the conversation");
        assertNotNull(topicStream, "a topic_title stream ran for the conversation");

        JsonObject title = user.json("api/streams/" + titleStream);
        JsonObject topic = user.json("api/streams/" + topicStream);
        assertEquals("completed", title.getString("status"));
        assertEquals("topic_title", topic.getString("type"));
        assertEquals("completed", topic.getString("status"));
        assertEquals(conversationId, topic.getString("relatedId"));
        assertEquals(conversationId, topic.getString("conversationId"));
        assertEquals("**Rivers** and valleys.", topic.getString("content"));
        // the title's text takes 900 ms to come (4 pieces, 300 ms apart): the topic starts once it is saved
        assertTrue(Duration.between(Instant.parse(title.getString("createdAt")), Instant.parse(topic.getString(
                "createdAt"))).toMillis() >= 900, "the topic title starts after the title: " + title + " " + topic);
        // its input: the saved title, a blank line, then the first question
        FakeUpstream.Call call = upstream.call("Rivers and valleys\n\n" + question).get(5, TimeUnit.SECONDS);
        assertTrue(call.body.getJsonArray("messages").getJsonObject(0).getString("content").contains("short titles"),
                "the topic_title instructions: " + call.body);
        List<SseClient.Event> events = SseClient.withoutPings(user.follow(topicStream).untilTerminal(10));
        assertEquals("topic_title", events.get(0).data().getString("type"));
        assertEquals(conversationId, events.get(0).data().getString("relatedId"));
        JsonObject listed = find(user.array("api/conversations"), conversationId);
        assertEquals("Rivers and valleys", listed.getString("topic"), "the list shows it too");
    }

    // --- /openapi

    @Test
    void theOpenApiDocumentListsTheAliases() throws Exception {
        User user = new User();
        HttpResponse<String> doc = user.http.send(HttpRequest.newBuilder(uri("openapi"))
                .header("Accept", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        Assumptions.assumeTrue(doc.statusCode() != 404 || System.getProperty("arquillian.xml") == null,
                "this server has no /openapi (Tomcat)");
        assertEquals(200, doc.statusCode(), doc.body());
        JsonObject openapi = SseClient.json(doc.body());
        JsonObject generate = openapi.getJsonObject("paths").getJsonObject("/api/v1/ai/generate");
        assertNotNull(generate, "the generate alias: " + openapi.getJsonObject("paths").keySet());
        assertTrue(generate.getJsonObject("post").getJsonObject("responses").getJsonObject("200")
                .getJsonObject("content").containsKey("text/event-stream"));
        JsonObject schemas = openapi.getJsonObject("components").getJsonObject("schemas");
        assertTrue(schemas.getJsonObject("Resume").getJsonObject("properties").containsKey("conversationId"));
        assertTrue(schemas.getJsonObject("Abort").getJsonObject("properties").containsKey("conversationId"));
        assertTrue(schemas.getJsonObject("NewStream").getJsonObject("properties").getJsonObject("type")
                .getJsonArray("enum").contains(Json.createValue("topic_title_generation")));
    }

    // --- helpers

    /** Seed 004's stream: {@code message} events with {@code delta} and {@code isFinal}, the last final, then done. */
    private static void assertSeedEventStream(SseClient sse, String expected) throws Exception {
        List<SseClient.Event> events = SseClient.withoutPings(sse.untilTerminal(20));
        assertTrue(sse.awaitEnd(5), "the response ends after the terminal event");
        List<SseClient.Event> messages = events.stream().filter(e -> e.name().equals("message")).toList();
        assertFalse(messages.isEmpty(), events.toString());
        for (int i = 0; i < messages.size(); i++) {
            JsonObject data = messages.get(i).data();
            assertTrue(data.containsKey("delta"), data.toString());
            assertEquals(i == messages.size() - 1, data.getBoolean("isFinal"), data.toString());
        }
        assertEquals(expected, SseClient.deltas(events));
        assertEquals("done", SseClient.last(events).name());
        assertEquals("completed", SseClient.last(events).data().getString("status"));
    }

    /** Seed 001's resume body: {@code JSON.stringify({conversationId, offset})}. */
    private static String resumeBody(String conversationId, int offset) {
        return "{\"conversationId\":\"" + conversationId + "\",\"offset\":" + offset + "}";
    }

    private static JsonObject find(JsonArray items, String id) {
        for (JsonValue v : items) {
            JsonObject item = v.asJsonObject();
            if (id.equals(item.getString("id", null))) {
                return item;
            }
        }
        return null;
    }

    private static void assertProblem(HttpResponse<String> response, int status, String what) {
        assertEquals(status, response.statusCode(), () -> what + ": " + response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                () -> what + ": problem+json, was " + response.headers().firstValue("Content-Type"));
        JsonObject problem = SseClient.json(response.body());
        assertEquals(status, problem.getInt("status"), what);
        assertNotNull(problem.getString("type"), what);
        assertFalse(problem.getString("detail").isBlank(), what);
    }

    private static boolean isTerminal(SseClient.Event e) {
        return e.name().equals("done") || e.name().equals("stopped") || e.name().equals("error");
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path);
    }

    /** One anonymous user: its own cookie jar. HTTP/1.1, so that a cut connection is a closed socket. */
    private final class User {
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(10)).build();

        HttpRequest.Builder request(String path, String contentType, String body) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            return contentType == null ? b : b.header("Content-Type", contentType);
        }

        /** A POST as a browser's {@code fetch} sends it: the given content type, {@code Accept: *}{@code /*}. */
        HttpRequest post(String path, String contentType, String body) {
            return request(path, contentType, body).header("Accept", "*/*").build();
        }

        HttpResponse<String> send(String method, String path, String contentType, String body) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        /** A chat turn, followed: {@code POST /api/chat/stream}. */
        SseClient chat(String message, String model, String conversationId) throws Exception {
            var body = Json.createObjectBuilder().add("message", message).add("model", model);
            if (conversationId != null) {
                body.add("conversationId", conversationId);
            }
            SseClient sse = SseClient.post(http, uri("api/chat/stream"), body.build().toString());
            assertEquals(200, sse.status, sse.errorBody);
            return sse;
        }

        /** Seed 001's resume: {@code fetch('/api/chat/resume', {method: 'POST', body: JSON.stringify(...)})}. */
        SseClient resume(String conversationId, int offset) throws Exception {
            SseClient sse = SseClient.open(http, post("api/chat/resume", TEXT_PLAIN, resumeBody(conversationId,
                    offset)));
            assertEquals(200, sse.status, sse.errorBody);
            assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            return sse;
        }

        SseClient follow(String streamId) throws Exception {
            SseClient sse = SseClient.get(http, uri("api/streams/" + streamId + "/events"), Map.of());
            assertEquals(200, sse.status, sse.errorBody);
            return sse;
        }

        JsonObject create(JsonObject body) throws Exception {
            HttpResponse<String> r = send("POST", "api/streams", "application/json", body.toString());
            assertEquals(201, r.statusCode(), r.body());
            return SseClient.json(r.body());
        }

        JsonObject json(String path) throws Exception {
            HttpResponse<String> r = send("GET", path, null, null);
            assertEquals(200, r.statusCode(), () -> path + ": " + r.body());
            return SseClient.json(r.body());
        }

        JsonArray array(String path) throws Exception {
            HttpResponse<String> r = send("GET", path, null, null);
            assertEquals(200, r.statusCode(), () -> path + ": " + r.body());
            return Json.createReader(new StringReader(r.body())).readArray();
        }

        JsonObject awaitStatus(String streamId, String status) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            JsonObject state;
            do {
                state = json("api/streams/" + streamId);
                if (status.equals(state.getString("status"))) {
                    return state;
                }
                Thread.sleep(100);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("stream status not " + status + " within 10 s: " + state);
        }

        JsonObject awaitConversation(String id, java.util.function.Predicate<JsonObject> until) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            JsonObject conversation;
            do {
                conversation = json("api/conversations/" + id);
                if (until.test(conversation)) {
                    return conversation;
                }
                Thread.sleep(100);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("the conversation did not change within 20 s: " + conversation);
        }

        /** The (latest) assistant message of a conversation, once saved (waits up to 10 s). */
        JsonObject savedAnswer(String conversationId) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            JsonArray messages;
            do {
                messages = array("api/conversations/" + conversationId + "/messages");
                for (int i = messages.size() - 1; i >= 0; i--) {
                    JsonObject m = messages.getJsonObject(i);
                    if ("assistant".equals(m.getString("role"))) {
                        return m;
                    }
                }
                Thread.sleep(100);
            } while (System.nanoTime() < deadline);
            throw new AssertionError("no answer saved within 10 s: " + messages);
        }
    }
}
