package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Black-box tests of the deployed {@code target/sluice.war} on Payara Micro, driven over real HTTP and SSE
 * with the JDK's client, against a fake OpenAI-compatible upstream (API.md sections 2, 4, 6, 7). Every test
 * uses its own cookie jar, so it is its own anonymous user and shares no state with the others.
 */
class GatewayIT extends BlackBoxTest {

    // --- the main path

    @Test
    void simulatedModelStreamsAnAnswerAndBothMessagesAreSaved() throws Exception {
        HttpClient http = user();
        SseClient sse = SseClient.post(http, uri("api/chat/stream"), "{\"message\":\"hello\",\"model\":\"simulated\"}");
        assertEquals(200, sse.status, sse.errorBody);
        assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        assertEquals("no-cache", sse.headers.firstValue("Cache-Control").orElse(""));
        assertEquals("no", sse.headers.firstValue("X-Accel-Buffering").orElse(""));

        // pings have no id and may come anywhere when the answer outlasts a heartbeat (a slow machine)
        List<SseClient.Event> events = sse.untilTerminal(60).stream().filter(e -> !e.name().equals("ping")).toList();
        SseClient.Event first = events.get(0);
        assertEquals("stream", first.name());
        assertEquals("chat", first.data().getString("type"));
        String conversationId = first.data().getString("conversationId");
        long previous = 0;
        for (SseClient.Event e : events) {
            long id = Long.parseLong(e.id());
            assertTrue(id > previous, "event ids strictly increase");
            previous = id;
        }
        SseClient.Event done = events.get(events.size() - 1);
        assertEquals("done", done.name());
        assertEquals("completed", done.data().getString("status"));
        SseClient.Event lastMessage = events.get(events.size() - 2);
        assertEquals("message", lastMessage.name());
        assertTrue(lastMessage.data().getBoolean("isFinal"));
        String text = SseClient.deltas(events);
        assertTrue(text.length() > 200, "a multi-paragraph answer");

        JsonArray messages = getArray(http, "api/conversations/" + conversationId + "/messages");
        assertEquals(2, messages.size());
        assertEquals("user", messages.getJsonObject(0).getString("role"));
        assertEquals("hello", messages.getJsonObject(0).getString("content"));
        JsonObject answer = messages.getJsonObject(1);
        assertEquals("assistant", answer.getString("role"));
        assertEquals(text, answer.getString("content"));
        assertEquals("completed", answer.getString("status"));
        assertEquals(done.data().getString("messageId"), answer.getString("id"));
    }

    @TestFactory
    Stream<DynamicTest> projectSampleStreamsReassembleExactly() throws Exception {
        try (Stream<Path> files = Files.list(FakeUpstream.SAMPLES)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".jsonl")).map(n -> n.substring(0, n.length() - 6)).sorted().toList();
            assertFalse(names.isEmpty(), "the project keeps sample streams");
            return names.stream().map(name -> DynamicTest.dynamicTest(name,
                    () -> replayAndCompare("sample:" + name, FakeUpstream.SAMPLES.resolve(name + ".expected.json"))));
        }
    }

    @TestFactory
    Stream<DynamicTest> sharedRecordedStreamsReassembleExactly() throws Exception {
        if (!Files.isDirectory(FakeUpstream.FIXTURES)) {
            // one visible skipped test (an aborted factory would not show in the report)
            return Stream.of(DynamicTest.dynamicTest("shared fixtures", () -> Assumptions.abort(
                    FakeUpstream.FIXTURES + " is absent: recorded provider streams skipped")));
        }
        try (Stream<Path> files = Files.list(FakeUpstream.FIXTURES)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".jsonl")).map(n -> n.substring(0, n.length() - 6)).sorted().toList();
            return names.stream().map(name -> DynamicTest.dynamicTest(name,
                    () -> replayAndCompare("fixture:" + name, FakeUpstream.FIXTURES.resolve(name + ".expected.json"))));
        }
    }

    private void replayAndCompare(String model, Path expectedFile) throws Exception {
        JsonObject expected = SseClient.json(Files.readString(expectedFile));
        HttpClient http = user();
        String marker = "replay " + model + " " + UUID.randomUUID();
        SseClient sse = SseClient.post(http, uri("api/chat/stream"), chat(marker, model, null));
        assertEquals(200, sse.status, sse.errorBody);
        List<SseClient.Event> events = sse.untilTerminal(60).stream().filter(e -> !e.name().equals("ping")).toList();
        SseClient.Event done = events.get(events.size() - 1);
        assertEquals("done", done.name(), () -> "terminal event " + done);

        assertEquals(expected.getString("content"), SseClient.deltas(events), "content");
        assertEquals(expected.getString("reasoning"), SseClient.reasonings(events), "reasoning");
        assertEquals(expected.getString("finish_reason"), done.data().getString("finishReason"));
        assertEquals(expected.get("usage"), done.data().get("usage"), "usage");

        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        assertEquals("Bearer it-secret", call.authorization);
        assertTrue(call.body.getBoolean("stream"));
        assertTrue(call.body.getJsonObject("stream_options").getBoolean("include_usage"));

        String conversationId = events.get(0).data().getString("conversationId");
        JsonObject saved = getArray(http, "api/conversations/" + conversationId + "/messages").getJsonObject(1);
        assertEquals(expected.getString("content"), saved.getString("content"));
        String reasoning = expected.getString("reasoning");
        assertEquals(reasoning.isEmpty() ? JsonValue.NULL : Json.createValue(reasoning), saved.get("reasoning"));
        assertEquals("completed", saved.getString("status"));
        assertEquals(expected.getString("finish_reason"), saved.getString("finishReason"));
        assertEquals(JsonValue.NULL, saved.get("error"), "no error");
        assertRowInPostgresql(saved.getString("id"), "completed");

        // the raw record (API.md section 13, issue 19): the recording's data lines, in order, exactly as received
        String name = expectedFile.getFileName().toString();
        Path recording = expectedFile.resolveSibling(name.substring(0, name.length() - ".expected.json".length())
                + ".jsonl");
        List<String> lines = Files.readAllLines(recording).stream().filter(l -> !l.isBlank()).toList();
        HttpResponse<String> rawAnswer = send(http, "GET", rawPath(conversationId, saved.getString("id")), null, null);
        assertEquals(200, rawAnswer.statusCode(), rawAnswer.body());
        assertTrue(rawAnswer.body().contains("\"chunks\":[" + String.join(",", lines) + "]"),
                "the chunks are the recording's data lines, byte for byte, in order");
        JsonObject raw = SseClient.json(rawAnswer.body());
        assertEquals(call.body, raw.getJsonObject("request"), "the request is the body the upstream received");
        JsonObject response = raw.getJsonObject("response");
        JsonArray chunks = response.getJsonArray("chunks");
        assertEquals(lines.size(), chunks.size(), "one chunk per data line; [DONE] is none");
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(SseClient.json(lines.get(i)), chunks.get(i), "chunk " + i);
        }
        JsonArray receivedAt = response.getJsonArray("receivedAt");
        assertEquals(lines.size(), receivedAt.size());
        for (int i = 1; i < receivedAt.size(); i++) {
            assertTrue(receivedAt.getInt(i) >= receivedAt.getInt(i - 1), "arrival times never decrease");
        }
        assertFalse(response.getBoolean("truncated"));
        assertEquals(200, response.getInt("status"));
        assertTrue(response.getInt("doneAt") >= receivedAt.getInt(receivedAt.size() - 1), "[DONE] came last");
    }

    // --- the raw record (API.md section 13)

    @Test
    void theRawRecordIsItsOwnersAndOnlyAnswersHaveOne() throws Exception {
        HttpClient http = user();
        String question = "Raw " + UUID.randomUUID();
        List<SseClient.Event> events = SseClient.post(http, uri("api/chat/stream"), chat(question, "simulated", null))
                .untilTerminal(60);
        String conversationId = events.get(0).data().getString("conversationId");
        String userId = events.get(0).data().getString("userMessageId");
        String answerId = SseClient.last(events).data().getString("messageId");

        HttpResponse<String> own = send(http, "GET", rawPath(conversationId, answerId), null, null);
        assertEquals(200, own.statusCode(), own.body());
        assertTrue(own.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonObject raw = SseClient.json(own.body());
        JsonArray sent = raw.getJsonObject("request").getJsonArray("messages");
        assertEquals(question, sent.getJsonObject(sent.size() - 1).getString("content"));
        assertTrue(raw.getJsonObject("request").getBoolean("stream"));
        // the simulated model has no upstream: the body it would have been sent, and a response with no chunk
        JsonObject response = raw.getJsonObject("response");
        assertEquals(0, response.getJsonArray("chunks").size());
        assertEquals(0, response.getJsonArray("receivedAt").size());
        assertFalse(response.getBoolean("truncated"));
        assertEquals(JsonValue.NULL, response.get("status"));
        assertEquals(JsonValue.NULL, response.get("doneAt"));

        String other = SseClient.json(send(http, "POST", "api/conversations", "application/json", "{}").body())
                .getString("id");
        assertProblem(send(user(), "GET", rawPath(conversationId, answerId), null, null), 404); // someone else
        assertProblem(send(http, "GET", rawPath(conversationId, userId), null, null), 404);     // a user message
        assertProblem(send(http, "GET", rawPath(conversationId, UUID.randomUUID().toString()), null, null), 404);
        assertProblem(send(http, "GET", rawPath(UUID.randomUUID().toString(), answerId), null, null), 404);
        assertProblem(send(http, "GET", rawPath(other, answerId), null, null), 404);          // another conversation
    }

    private static String rawPath(String conversationId, String messageId) {
        return "api/conversations/" + conversationId + "/messages/" + messageId + "/raw";
    }

    // --- upstream failures

    @Test
    void upstreamServerErrorEndsInErrorEvent() throws Exception {
        JsonObject response = assertUpstreamFailure("fail:500", "UPSTREAM_ERROR", "").raw().getJsonObject("response");
        assertEquals(500, response.getInt("status"), "the raw record has the upstream's status");
        assertEquals(0, response.getJsonArray("chunks").size(), "an error body is no event");
    }

    @Test
    void upstreamRateLimitKeepsRetryAfter() throws Exception {
        JsonObject error = assertUpstreamFailure("fail:429", "RATE_LIMITED", "").error();
        assertEquals(7, error.getJsonObject("details").getInt("retryAfterSeconds"));
        assertEquals(429, error.getJsonObject("details").getInt("upstreamStatus"));
    }

    @Test
    void upstreamAuthFailure() throws Exception {
        assertUpstreamFailure("fail:401", "UPSTREAM_AUTH", "");
    }

    @Test
    void silentUpstreamTimesOutAndItsConnectionIsClosed() throws Exception {
        String marker = "hang " + UUID.randomUUID();
        assertUpstreamFailure("hang", "UPSTREAM_TIMEOUT", "Before the silence", marker);
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        call.closedByClient.get(5, TimeUnit.SECONDS);
    }

    @Test
    void upstreamCutMidStreamKeepsTheTextSoFar() throws Exception {
        JsonObject response = assertUpstreamFailure("cut", "UPSTREAM_ERROR", "Half an answer").raw()
                .getJsonObject("response");
        assertEquals(2, response.getJsonArray("chunks").size(), "both chunks before the cut");
        assertEquals(JsonValue.NULL, response.get("doneAt"), "no [DONE] came");
    }

    @Test
    void malformedChunkIsAProtocolError() throws Exception {
        String marker = "malformed " + UUID.randomUUID();
        JsonArray chunks = assertUpstreamFailure("malformed", "UPSTREAM_PROTOCOL", "Fine so far.", marker).raw()
                .getJsonObject("response").getJsonArray("chunks");
        upstream.call(marker).get(5, TimeUnit.SECONDS).closedByClient.get(5, TimeUnit.SECONDS);
        // the line that broke the stream is kept, as a JSON string of its text, for whoever debugs it
        assertEquals(2, chunks.size());
        assertEquals("Fine so far.", chunks.getJsonObject(0).getJsonArray("choices").getJsonObject(0)
                .getJsonObject("delta").getString("content"));
        assertEquals("{\"choices\":[{\"delta\":{\"content\":\"oops\"", chunks.getString(1));
    }

    /** A failed answer: its stream's {@code error} event's data, and its raw record. */
    private record Failed(JsonObject error, JsonObject raw) {
    }

    private Failed assertUpstreamFailure(String model, String code, String textSoFar) throws Exception {
        return assertUpstreamFailure(model, code, textSoFar, model + " " + UUID.randomUUID());
    }

    /**
     * Streams a turn that fails with {@code code}, and checks the event and the saved answer: its status, text so far,
     * and {@code error} (the code and the event's message; API.md section 13).
     */
    private Failed assertUpstreamFailure(String model, String code, String textSoFar, String marker)
            throws Exception {
        HttpClient http = user();
        SseClient sse = SseClient.post(http, uri("api/chat/stream"), chat(marker, model, null));
        assertEquals(200, sse.status, sse.errorBody);
        List<SseClient.Event> events = sse.untilTerminal(30);
        SseClient.Event error = events.get(events.size() - 1);
        assertEquals("error", error.name(), () -> "terminal event " + error);
        assertEquals(code, error.data().getString("code"));
        assertFalse(error.data().getString("error").isBlank());
        assertEquals(textSoFar, SseClient.deltas(events));
        sse.ended().get(5, TimeUnit.SECONDS);

        String conversationId = events.get(0).data().getString("conversationId");
        JsonObject saved = getArray(http, "api/conversations/" + conversationId + "/messages").getJsonObject(1);
        assertEquals(error.data().getString("messageId"), saved.getString("id"));
        assertEquals("error", saved.getString("status"));
        assertEquals(textSoFar, saved.getString("content"));
        assertEquals(code, saved.getString("endReason"));
        JsonObject failure = saved.getJsonObject("error");
        assertEquals(code, failure.getString("code"));
        assertEquals(error.data().getString("error"), failure.getString("error"), "the error event's message");
        assertEquals(2, failure.size(), "{code, error}");

        HttpResponse<String> raw = send(http, "GET", rawPath(conversationId, saved.getString("id")), null, null);
        assertEquals(200, raw.statusCode(), raw.body());
        return new Failed(error.data(), SseClient.json(raw.body()));
    }

    // --- a client that leaves

    @Test
    void clientThatLeavesIsNotAStopButPastTheResumeGraceTheUpstreamIsClosedAndThePartialTextSaved()
            throws Exception {
        HttpClient http = user();
        String marker = "leaver " + UUID.randomUUID();
        SseClient sse = SseClient.post(http, uri("api/chat/stream"), chat(marker, "slow", null));
        assertEquals(200, sse.status, sse.errorBody);
        String conversationId = sse.next(10).data().getString("conversationId");
        StringBuilder seen = new StringBuilder();
        while (seen.length() < 30) {
            SseClient.Event e = sse.next(10);
            seen.append(e.data().getString("delta", ""));
        }
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        long left = System.nanoTime();
        sse.disconnect();

        long closed;
        try {
            closed = call.closedByClient.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the upstream connection stayed open 10 s after the client left; upstream "
                    + (call.finished.isDone() ? "ran to its end" : "still streaming") + "; saved answer: "
                    + getArray(http, "api/conversations/" + conversationId + "/messages"));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(closed - left);
        // a drop is not a stop: the generation goes on through the resume grace (3 s in the tests), then the
        // upstream request is cancelled at once
        assertTrue(millis >= RESUME_GRACE_MS - 200 && millis < RESUME_GRACE_MS + 1500,
                "upstream closed " + millis + " ms after the client left");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");

        JsonObject saved = awaitAnswer(http, conversationId);
        assertEquals("partial", saved.getString("status"));
        assertEquals("client_disconnected", saved.getString("endReason"));
        assertTrue(saved.getString("content").startsWith(seen.toString()), "saved text begins with what was seen");
        assertTrue(saved.getString("content").matches("(w\\d+ )+"), "whole chunks only: " + saved.getString("content"));
        assertRowInPostgresql(saved.getString("id"), "partial");
    }

    // --- conversations and bad input

    @Test
    void conversationsCrudAndOwnership() throws Exception {
        HttpClient alice = user();
        HttpClient bob = user();
        HttpResponse<String> created = send(alice, "POST", "api/conversations", "application/json",
                "{\"title\":\"Plans\",\"systemPrompt\":\"Be brief.\",\"model\":\"simulated\"}");
        assertEquals(201, created.statusCode(), created.body());
        JsonObject conversation = SseClient.json(created.body());
        String id = conversation.getString("id");
        assertTrue(created.headers().firstValue("Location").orElse("").endsWith("/api/conversations/" + id));
        assertEquals("Plans", conversation.getString("title"));
        assertEquals("Be brief.", conversation.getString("systemPrompt"));

        assertEquals(id, getArray(alice, "api/conversations").getJsonObject(0).getString("id"));
        assertEquals(0, getArray(bob, "api/conversations").size(), "bob sees none of alice's conversations");
        assertProblem(send(bob, "GET", "api/conversations/" + id, null, null), 404);
        assertProblem(send(bob, "GET", "api/conversations/" + id + "/messages", null, null), 404);
        assertProblem(send(bob, "DELETE", "api/conversations/" + id, null, null), 404);
        assertProblem(send(bob, "POST", "api/chat/stream", "application/json",
                "{\"conversationId\":\"" + id + "\",\"message\":\"mine now\"}"), 404);

        SseClient sse = SseClient.post(alice, uri("api/chat/stream"),
                "{\"conversationId\":\"" + id + "\",\"message\":\"second turn\"}");
        assertEquals("done", SseClient.last(sse.untilTerminal(60)).name());
        assertEquals(2, getArray(alice, "api/conversations/" + id + "/messages").size());

        assertEquals(204, send(alice, "DELETE", "api/conversations/" + id, null, null).statusCode());
        assertProblem(send(alice, "GET", "api/conversations/" + id, null, null), 404);
    }

    @Test
    void aLongConversationIsReadInPagesEachLinkingTheOlderOne() throws Exception {
        HttpClient http = user();
        String id = null;
        for (int turn = 1; turn <= 3; turn++) {
            SseClient sse = SseClient.post(http, uri("api/chat/stream"), chat("turn " + turn, "simulated", id));
            List<SseClient.Event> events = sse.untilTerminal(60);
            assertEquals("done", SseClient.last(events).name());
            id = events.get(0).data().getString("conversationId");
            awaitMessages(http, id, 2 * turn);
        }
        String path = "api/conversations/" + id + "/messages";
        JsonArray all = getArray(http, path);
        assertEquals(6, all.size());
        for (int i = 0; i < 6; i++) {
            assertEquals(i + 1, all.getJsonObject(i).getInt("seq"), "each message's position");
        }

        List<String> paged = new ArrayList<>();
        URI next = uri(path + "?limit=4");
        int pages = 0;
        while (next != null) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(next).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
            JsonArray messages = Json.createReader(new StringReader(page.body())).readArray();
            List<String> ids = messages.getValuesAs(JsonObject.class).stream().map(m -> m.getString("id")).toList();
            paged.addAll(0, ids);
            pages++;
            URI current = next;
            next = page.headers().firstValue("Link").map(link -> {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("<([^>]*)>;\\s*rel=\"prev\"").matcher(link);
                assertTrue(m.find(), link);
                return current.resolve(m.group(1));
            }).orElse(null);
        }
        assertEquals(2, pages, "4, then the 2 older ones, without a link");
        assertEquals(all.getValuesAs(JsonObject.class).stream().map(m -> m.getString("id")).toList(), paged,
                "the pages, newest first, make up the conversation oldest first");
        JsonArray middle = getArray(http, path + "?before=5&limit=2");
        assertEquals(List.of(3, 4), middle.getValuesAs(JsonObject.class).stream().map(m -> m.getInt("seq")).toList());

        for (String bad : List.of("?limit=0", "?limit=501", "?limit=x", "?before=3", "?before=0&limit=2",
                "?before=-1&limit=2")) {
            assertProblem(send(http, "GET", path + bad, null, null), 400);
        }
        assertProblem(send(user(), "GET", path + "?limit=2", null, null), 404);
    }

    private void awaitMessages(HttpClient http, String conversationId, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (getArray(http, "api/conversations/" + conversationId + "/messages").size() < count) {
            assertTrue(System.nanoTime() < deadline, "the answer was not saved within 10 s");
            Thread.sleep(50);
        }
    }

    // --- versions (Regenerate), Continue, titles the user chose

    @Test
    void regenerateMakesAVersionOfTheSameUserMessageAndTheActiveOneIsTheHistory() throws Exception {
        HttpClient http = user();
        String question = "Versions " + UUID.randomUUID();
        List<SseClient.Event> first = SseClient.post(http, uri("api/chat/stream"), chat(question, "paced:3:5", null))
                .untilTerminal(60);
        String conversationId = first.get(0).data().getString("conversationId");
        String userId = first.get(0).data().getString("userMessageId");
        String v1 = SseClient.last(first).data().getString("messageId");

        SseClient regenerate = SseClient.post(http, uri("api/chat/stream"), Json.createObjectBuilder()
                .add("conversationId", conversationId).add("parentId", userId).add("model", "paced:5:5").build()
                .toString());
        assertEquals(200, regenerate.status, regenerate.errorBody);
        List<SseClient.Event> second = regenerate.untilTerminal(60);
        assertEquals(userId, second.get(0).data().getString("userMessageId"), "the same user message");
        assertEquals(FakeUpstream.pacedText(5), SseClient.deltas(second));
        String v2 = SseClient.last(second).data().getString("messageId");
        // The upstream got the question once, with no earlier answer: the history does not double.
        List<FakeUpstream.Call> calls = upstream.callsWith(question);
        assertEquals(2, calls.size());
        assertEquals(List.of("user:" + question), roles(calls.get(1)));

        JsonArray messages = getArray(http, "api/conversations/" + conversationId + "/messages");
        assertEquals(3, messages.size(), "no second user message");
        assertEquals(List.of(userId, userId), List.of(messages.getJsonObject(1).getString("parentId"),
                messages.getJsonObject(2).getString("parentId")));
        assertEquals(List.of(false, true), List.of(messages.getJsonObject(1).getBoolean("active"),
                messages.getJsonObject(2).getBoolean("active")));
        assertEquals(v2, messages.getJsonObject(2).getString("id"));

        // Version 1 becomes the active one: the next turn's history carries it.
        HttpResponse<String> activated = send(http, "POST",
                "api/conversations/" + conversationId + "/messages/" + v1 + "/activate", null, null);
        assertEquals(200, activated.statusCode(), activated.body());
        assertTrue(SseClient.json(activated.body()).getBoolean("active"));
        String next = "Next " + UUID.randomUUID();
        SseClient.post(http, uri("api/chat/stream"), chat(next, "paced:2:5", conversationId)).untilTerminal(60);
        assertEquals(List.of("user:" + question, "assistant:" + FakeUpstream.pacedText(3), "user:" + next),
                roles(upstream.callsWith(next).get(0)));

        HttpClient stranger = user();
        assertProblem(send(stranger, "POST", "api/conversations/" + conversationId + "/messages/" + v1 + "/activate",
                null, null), 404);
        assertProblem(send(http, "POST", "api/conversations/" + conversationId + "/messages/" + userId + "/activate",
                null, null), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("conversationId", conversationId).add("parentId", v1).build().toString()), 404);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("conversationId", conversationId).add("parentId", userId).add("message", "both").build()
                .toString()), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("parentId", userId).build().toString()), 400);
        assertProblem(send(stranger, "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("conversationId", conversationId).add("parentId", userId).build().toString()), 404);
        assertEquals(5, getArray(http, "api/conversations/" + conversationId + "/messages").size(),
                "the refused requests changed nothing");
    }

    @Test
    void continueCarriesThePartialAnswerAndSavesTheJoinedText() throws Exception {
        HttpClient http = user();
        String question = "Cut " + UUID.randomUUID();
        List<SseClient.Event> cut = SseClient.post(http, uri("api/chat/stream"),
                chat(question, "paced:3:5:length", null)).untilTerminal(60);
        SseClient.Event done = SseClient.last(cut);
        assertEquals("length", done.data().getString("finishReason"));
        String conversationId = cut.get(0).data().getString("conversationId");
        String answerId = done.data().getString("messageId");

        SseClient more = SseClient.post(http, uri("api/chat/stream"), Json.createObjectBuilder()
                .add("conversationId", conversationId).add("continueFrom", answerId).add("model", "paced:2:5").build()
                .toString());
        assertEquals(200, more.status, more.errorBody);
        List<SseClient.Event> events = more.untilTerminal(60);
        assertEquals(answerId, events.get(0).data().getString("continues"));
        assertEquals(FakeUpstream.pacedText(2), SseClient.deltas(events), "the stream carries the continuation only");
        assertEquals(answerId, SseClient.last(events).data().getString("messageId"));
        assertEquals(List.of("user:" + question, "assistant:" + FakeUpstream.pacedText(3),
                "user:" + io.sluice.chat.control.Revisions.CONTINUE_INSTRUCTION), roles(upstream.callsWith(question).get(1)));

        JsonArray messages = getArray(http, "api/conversations/" + conversationId + "/messages");
        assertEquals(2, messages.size(), "the same answer, continued");
        JsonObject saved = messages.getJsonObject(1);
        assertEquals(answerId, saved.getString("id"));
        assertEquals(FakeUpstream.pacedText(3) + FakeUpstream.pacedText(2), saved.getString("content"));
        assertEquals("stop", saved.getString("finishReason"));
        assertEquals("completed", saved.getString("status"));
        // the joined answer's raw record is the continuation's: its request (with the answer so far) and response
        JsonObject raw = SseClient.json(send(http, "GET", rawPath(conversationId, answerId), null, null).body());
        assertEquals(upstream.callsWith(question).get(1).body, raw.getJsonObject("request"));
        assertEquals(3, raw.getJsonObject("response").getJsonArray("chunks").size(), "two pieces and the finish");

        String userId = cut.get(0).data().getString("userMessageId");
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("conversationId", conversationId).add("continueFrom", userId).build().toString()), 400);
        assertProblem(send(user(), "POST", "api/chat/stream", "application/json", Json.createObjectBuilder()
                .add("conversationId", conversationId).add("continueFrom", answerId).build().toString()), 404);
    }

    @Test
    void aTitleTheUserChoseIsNeverReplaced() throws Exception {
        HttpClient http = user();
        // A title given at creation: no title stream replaces it.
        HttpResponse<String> created = send(http, "POST", "api/conversations", "application/json",
                "{\"title\":\"Chosen\"}");
        String chosen = SseClient.json(created.body()).getString("id");
        assertTrue(SseClient.json(created.body()).getBoolean("titleByUser"));
        SseClient.post(http, uri("api/chat/stream"), chat("Hello " + UUID.randomUUID(), "paced:3:5", chosen))
                .untilTerminal(60);

        // A rename while the generated title streams: the rename stays.
        List<SseClient.Event> turn = SseClient.post(http, uri("api/chat/stream"),
                chat("Rename me " + UUID.randomUUID(), "paced:4:250", null)).untilTerminal(60);
        String renamed = turn.get(0).data().getString("conversationId");
        HttpResponse<String> patched = send(http, "PATCH", "api/conversations/" + renamed, "application/json",
                "{\"title\":\"  My own title  \"}");
        assertEquals(200, patched.statusCode(), patched.body());
        assertEquals("My own title", SseClient.json(patched.body()).getString("title"));
        awaitNoTitleStream(http);
        assertEquals("My own title", SseClient.json(send(http, "GET", "api/conversations/" + renamed, null, null)
                .body()).getString("title"));
        assertEquals("Chosen", SseClient.json(send(http, "GET", "api/conversations/" + chosen, null, null)
                .body()).getString("title"));

        assertProblem(send(http, "PATCH", "api/conversations/" + renamed, "application/json", "{\"title\":\" \"}"),
                400);
        assertProblem(send(http, "PATCH", "api/conversations/" + renamed, "application/json",
                "{\"title\":\"" + "x".repeat(201) + "\"}"), 400);
        assertProblem(send(user(), "PATCH", "api/conversations/" + renamed, "application/json", "{\"title\":\"x\"}"),
                404);
    }

    /** Waits until the user runs no {@code conversation_title} stream (each lasts about a second here). */
    private void awaitNoTitleStream(HttpClient http) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (getArray(http, "api/streams?status=active").stream()
                .anyMatch(s -> "conversation_title".equals(s.asJsonObject().getString("type")))) {
            assertTrue(System.nanoTime() < deadline, "the title stream ends");
            Thread.sleep(100);
        }
    }

    /** The messages a request sent upstream, as {@code role:content}. */
    private static List<String> roles(FakeUpstream.Call call) {
        return call.body.getJsonArray("messages").stream().map(JsonValue::asJsonObject)
                .map(m -> m.getString("role") + ":" + m.getString("content")).toList();
    }

    @Test
    void badRequestsGetProblemDetailsAndChangeNothing() throws Exception {
        HttpClient http = user();
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", "{\"message\":"), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", "{\"message\":\"   \"}"), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", "{\"model\":\"x\"}"), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", "[1,2]"), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", ""), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", "{\"message\":42}"), 400);
        assertProblem(send(http, "POST", "api/chat/stream", "text/plain", "{\"message\":\"hi\"}"), 415);
        String big = "{\"message\":\"" + "x".repeat(70 * 1024) + "\"}";
        assertProblem(send(http, "POST", "api/chat/stream", "application/json", big), 413);
        assertProblem(send(http, "POST", "api/chat/stream", "application/json",
                "{\"conversationId\":\"" + UUID.randomUUID() + "\",\"message\":\"hi\"}"), 404);
        assertProblem(send(http, "POST", "api/conversations", "application/json", "{\"title\":"), 400);
        assertProblem(send(http, "GET", "api/no-such-thing", null, null), 404);
        // U+0000 in a path or query (PostgreSQL text cannot hold it): 400 on every server, never a 500 (Payara's
        // listener refuses the URI itself, without a problem body; on WildFly IdentityFilter does)
        for (String nul : List.of("api/streams/%00", "api/streams/x%00y/stop", "api/streams?status=%00")) {
            assertEquals(400, send(http, nul.endsWith("stop") ? "POST" : "GET", nul, "application/json",
                    nul.endsWith("stop") ? "{}" : null).statusCode(), nul);
        }
        assertEquals(0, getArray(http, "api/conversations").size(), "no conversation was left behind");
    }

    @Test
    void hostileBodiesGet400AndChangeNothing() throws Exception {
        HttpClient http = user();
        String deep = "[".repeat(1000) + "]".repeat(1000);
        for (String path : List.of("api/conversations", "api/chat/stream", "api/streams", "api/chat/resume",
                "api/chat/abort")) {
            assertProblem(send(http, "POST", path, "application/json", "{\"message\":" + deep + "}"), 400);
        }
        for (String form : List.of("reason=%ZZ", "streamId=%ZZ", "reason=%", "streamId=" + UUID.randomUUID()
                + "&reason=%E")) {
            assertProblem(send(http, "POST", "api/chat/abort", "application/x-www-form-urlencoded", form), 400);
        }
        // one policy on every path: a lone surrogate is refused, never saved as '?' or U+FFFD
        HttpResponse<String> lone = send(http, "POST", "api/chat/stream", "application/json",
                "{\"message\":\"a\\udfff\",\"model\":\"paced:3:10\"}");
        assertProblem(lone, 400);
        assertTrue(lone.body().contains("surrogate"), lone.body());
        assertProblem(send(http, "POST", "api/conversations", "application/json", "{\"title\":\"\\ud800x\"}"), 400);
        assertEquals(0, getArray(http, "api/conversations").size(), "no conversation was left behind");
    }

    /**
     * Issue 11: generated hostile requests to every endpoint and frames of every type get no 500, no hang and no
     * stack trace, and the server still answers afterwards. CI runs a fixed seed; a longer run with a random seed:
     * {@code mvn verify -Dit.test=GatewayIT -Dsluice.fuzz.seed=random -Dsluice.fuzz.cases=20000}.
     */
    @Test
    void fuzzedRequestsAndFramesGetNo500NoHangAndNoStackTrace() throws Exception {
        String seedProperty = System.getProperty("sluice.fuzz.seed", "20261201");
        long seed = seedProperty.equals("random") ? System.nanoTime() : Long.parseLong(seedProperty);
        int cases = Integer.getInteger("sluice.fuzz.cases", 2000);
        FuzzCases fuzz = new FuzzCases(seed);
        List<HttpClient> users = List.of(user(), user(), user());
        for (HttpClient http : users) {
            send(http, "GET", "", null, null); // an identity cookie
        }
        for (int i = 0; i < cases; i++) {
            FuzzCases.Request r = fuzz.request();
            String context = "seed " + seed + ", case " + i + ": " + r;
            HttpRequest.Builder b = HttpRequest.newBuilder(uri(r.path())).timeout(Duration.ofSeconds(20));
            if (r.contentType() != null) {
                b.header("Content-Type", r.contentType());
            }
            if (r.lastEventId() != null) {
                b.header("Last-Event-ID", r.lastEventId());
            }
            b.method(r.method(), r.body() == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(r.body()));
            HttpResponse<java.io.InputStream> response;
            try {
                response = users.get(i % users.size()).send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (java.net.http.HttpTimeoutException e) {
                throw new AssertionError("no answer within 20 s: " + context);
            } catch (IllegalArgumentException e) {
                continue; // a URI the JDK client itself refuses to send
            } catch (java.io.IOException closedWhileReused) {
                // the server may close a kept-alive connection after an answer that left a body unread; the JDK
                // client retries only idempotent requests on a fresh one: this case is sent again, once, on its own
                try {
                    response = user().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (java.io.IOException again) {
                    throw new AssertionError("no answer, twice: " + context, again);
                }
            }
            String body;
            try (java.io.InputStream in = response.body()) {
                boolean events = response.headers().firstValue("Content-Type").orElse("")
                        .startsWith("text/event-stream");
                body = new String(in.readNBytes(events ? 256 : 256 * 1024), java.nio.charset.StandardCharsets.UTF_8);
            }
            assertTrue(response.statusCode() != 500, context + " -> 500 " + body);
            assertFalse(body.contains("Exception") || body.contains("\tat ") || body.contains("at io.sluice"),
                    context + " -> a stack trace: " + body);
        }

        // every frame type, on sessions that are reopened when the server closes one on purpose
        HttpClient wsUser = user();
        send(wsUser, "GET", "", null, null);
        String cookie = ((CookieManager) wsUser.cookieHandler().orElseThrow()).getCookieStore().getCookies().stream()
                .map(c -> c.getName() + "=" + c.getValue()).collect(java.util.stream.Collectors.joining("; "));
        WsClient ws = WsClient.open(wsUser, URI.create(base.toString()), cookie, null);
        List<JsonObject> frames = new java.util.ArrayList<>();
        for (int i = 0; i < cases / 4; i++) {
            String frame = fuzz.frame();
            if (ws.closedWith.isDone()) {
                assertTrue(ws.closedWith.getNow(0) != 1011, "closed as an internal error after: " + frame);
                ws = WsClient.open(wsUser, URI.create(base.toString()), cookie, null);
            }
            try {
                ws.send(frame);
            } catch (java.util.concurrent.CompletionException closedMeanwhile) {
                continue;
            }
            for (int k = 0; k < 50 && !ws.quietFor(2); k++) {
                // drain what this frame brought
            }
            frames.addAll(ws.received);
            ws.received.clear();
        }
        while (!ws.quietFor(1000)) {
            // the rest
        }
        frames.addAll(ws.received);
        for (JsonObject frame : frames) {
            assertFalse("INTERNAL_ERROR".equals(frame.getString("code", null)), "seed " + seed + ": " + frame);
        }
        if (ws.closedWith.isDone()) {
            ws = WsClient.open(wsUser, URI.create(base.toString()), cookie, null);
        }
        ws.send("{\"type\":\"dance\"}");
        assertEquals("UNKNOWN_TYPE", ws.until(f -> "error".equals(f.getString("type", null)), 10)
                .stream().reduce((a, c) -> c).orElseThrow().getString("code"), "the last session still works");
        ws.socket.abort();
        assertEquals(200, send(user(), "GET", "health/live", null, null).statusCode(), "the server still answers");
    }

    @Test
    void infoSaysWhichProviderAnswers() throws Exception {
        JsonObject info = SseClient.json(send(user(), "GET", "api/info", null, null).body());
        assertEquals("openai", info.getString("provider"));
        assertFalse(info.getBoolean("simulated"));
    }

    @Test
    void pageIsServedAtTheRoot() throws Exception {
        HttpResponse<String> page = send(user(), "GET", "", null, null);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<html"), "an HTML page");
        assertTrue(page.headers().allValues("Set-Cookie").stream()
                .anyMatch(c -> c.startsWith("sluice_uid=") && c.contains("HttpOnly") && c.contains("SameSite=Lax")));
    }

    // --- helpers

    private HttpClient user() {
        // HTTP/1.1, as a browser speaks to a plain-http origin: the JDK's default (HTTP/2) tries an h2c
        // upgrade, and a "disconnect" then resets one HTTP/2 stream while the TCP connection stays open
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).cookieHandler(new CookieManager())
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path);
    }

    private static String chat(String message, String model, String conversationId) {
        var b = Json.createObjectBuilder().add("message", message).add("model", model);
        if (conversationId != null) {
            b.add("conversationId", conversationId);
        }
        return b.build().toString();
    }

    private HttpResponse<String> send(HttpClient http, String method, String path, String contentType, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonArray getArray(HttpClient http, String path) throws Exception {
        HttpResponse<String> r = send(http, "GET", path, null, null);
        assertEquals(200, r.statusCode(), r.body());
        return Json.createReader(new StringReader(r.body())).readArray();
    }

    private JsonObject awaitAnswer(HttpClient http, String conversationId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            JsonArray messages = getArray(http, "api/conversations/" + conversationId + "/messages");
            if (messages.size() == 2) {
                return messages.getJsonObject(1);
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the answer was not saved within 10 s");
    }

    private static void assertProblem(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                () -> "problem+json, was " + response.headers().firstValue("Content-Type"));
        JsonObject problem = SseClient.json(response.body());
        assertEquals(status, problem.getInt("status"));
        assertNotNull(problem.getString("type"));
        assertNotNull(problem.getString("title"));
        assertFalse(problem.getString("detail").isBlank());
    }

    /** When the suite runs against PostgreSQL (SLUICE_DB_URL), the row must be there, not only in the API. */
    private static void assertRowInPostgresql(String messageId, String status) throws Exception {
        String url = System.getenv("SLUICE_DB_URL");
        if (url == null || !url.startsWith("jdbc:postgresql:")) {
            return;
        }
        String user = System.getenv().getOrDefault("SLUICE_DB_USER", "postgres");
        try (var c = DriverManager.getConnection(url, user, System.getenv("SLUICE_DB_PASSWORD"));
             var s = c.prepareStatement("SELECT status FROM messages WHERE id = ?")) {
            s.setString(1, messageId);
            try (var rs = s.executeQuery()) {
                assertTrue(rs.next(), "message row in PostgreSQL");
                assertEquals(status, rs.getString(1));
            }
        }
    }
}
