package io.sluice.it;

import static io.sluice.it.WsClient.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.agents.control.AgentPrompts;
import io.sluice.agents.control.AgentSpec;
import io.sluice.agents.control.Roster;
import io.sluice.providers.control.SimulatedScript;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code /ws/agents} (API.md section 5) driven from outside with the JDK's WebSocket client and raw sockets: gapless
 * sequences and exact per-agent text against the fake upstream, parallel agents, resume on a new session after a
 * cut, per-agent and whole-run stop with the upstream closed, the resume grace, bad and foreign frames, the
 * connection guard (replacement, cap, a peer that never answers pings), and the saved messages.
 */
class AgentsIT extends BlackBoxTest {

    private static final List<String> ROSTER = List.of("planner", "researcher", "critic", "writer");

    @Test
    void aRunStreamsEveryAgentWithGaplessSequencesAndSavesTheirMessages() throws Exception {
        User user = new User();
        String task = "Gapless " + UUID.randomUUID();
        try (WsClient ws = user.socket("tab-a")) {
            ws.send(run(task, "paced:20:20", null));
            List<JsonObject> frames = ws.until(type("run_complete"), 60);

            assertGapless(frames);
            JsonObject started = frames.get(0);
            assertEquals("run_started", started.getString("type"));
            assertEquals(ROSTER, strings(started.getJsonArray("agents")));
            assertEquals(List.of("researcher", "critic"),
                    strings(started.getJsonObject("dependsOn").getJsonArray("writer")));
            Map<String, String> text = contents(frames);
            for (String agent : ROSTER) {
                assertEquals(paced(20), text.get(agent), agent + "'s content is its upstream text exactly");
                assertEquals(List.of("running", "completed"), statuses(frames, agent), agent);
            }
            assertEquals("completed", frames.get(frames.size() - 1).getString("status"));
            assertTrue(interleaved(frames, "researcher", "critic"), "researcher and critic ran in parallel");
            assertTrue(index(frames, "planner", "completed") < index(frames, "researcher", "running"));
            assertTrue(index(frames, "critic", "completed") < index(frames, "writer", "running"));
            assertTrue(index(frames, "researcher", "completed") < index(frames, "writer", "running"));

            // the writer's request: its system prompt, the task, and what the researcher and the critic wrote
            AgentSpec writer = spec("writer");
            String marker = AgentPrompts.request(null, writer, task, List.of(
                    new AgentPrompts.Input("researcher", paced(20)), new AgentPrompts.Input("critic", paced(20))))
                    .lastUserMessage();
            FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
            assertEquals(writer.systemPrompt(), call.body.getJsonArray("messages").getJsonObject(0)
                    .getString("content"));

            String conversationId = started.getString("conversationId");
            JsonArray messages = user.getArray("api/conversations/" + conversationId + "/messages");
            assertEquals(5, messages.size(), messages.toString());
            assertEquals(task, messages.getJsonObject(0).getString("content"));
            for (int i = 0; i < ROSTER.size(); i++) {
                JsonObject m = messages.getJsonObject(i + 1);
                assertEquals("assistant", m.getString("role"));
                assertEquals(ROSTER.get(i), m.getString("agent"));
                assertEquals(paced(20), m.getString("content"));
                assertEquals("completed", m.getString("status"));
            }
            // an agent's message has its raw record too (API.md section 13): the writer's request and its chunks
            JsonObject raw = user.getObject("api/conversations/" + conversationId + "/messages/"
                    + messages.getJsonObject(4).getString("id") + "/raw");
            assertEquals(call.body, raw.getJsonObject("request"));
            assertEquals(21, raw.getJsonObject("response").getJsonArray("chunks").size(), "20 pieces and the finish");
            assertRowsInPostgresql(started.getString("runId"), conversationId, "completed", 4);
        }
    }

    @Test
    void theSimulatedModelAnswersAnAgentInItsRole() throws Exception {
        User user = new User();
        String task = "Explain garbage collection in Java " + UUID.randomUUID();
        try (WsClient ws = user.socket(null)) {
            ws.send(run(task, "simulated", Json.createArrayBuilder().add("planner").build()));
            List<JsonObject> frames = ws.until(type("run_complete"), 60);
            String expected = SimulatedScript.composeTask("agent:planner",
                    AgentPrompts.request(null, spec("planner"), task, List.of()).lastUserMessage(), "simulated")
                    .answerText();
            assertTrue(expected.startsWith("## Plan"), expected);
            assertEquals(expected, contents(frames).get("planner"));
            assertGapless(frames);
        }
    }

    @Test
    void aCutSessionResumesOnANewSessionWithNoGapAndNoDuplicate() throws Exception {
        User user = new User();
        List<JsonObject> before;
        String runId;
        try (WsClient first = user.socket("tab-1")) {
            first.send(run("Cut " + UUID.randomUUID(), "paced:30:25", null));
            before = new ArrayList<>();
            while (before.size() < 15) {
                before.add(first.next(30));
            }
            runId = before.get(0).getString("runId");
            first.cut();
        }
        long last = before.get(before.size() - 1).getInt("sequence");
        List<JsonObject> after;
        try (WsClient second = user.socket("tab-2")) {
            second.send(Json.createObjectBuilder().add("type", "resume").add("runId", runId)
                    .add("afterSequence", last).build());
            after = second.until(type("run_complete"), 60);
        }
        List<JsonObject> whole;
        try (WsClient third = user.socket("tab-3")) {
            third.send(Json.createObjectBuilder().add("type", "resume").add("runId", runId).add("afterSequence", 0)
                    .build());
            whole = third.until(type("run_complete"), 30);
        }
        List<JsonObject> union = new ArrayList<>(before);
        union.addAll(after);
        assertEquals(whole, union, "the frames before the cut and after the resume are exactly the whole run");
        assertGapless(whole);
        assertEquals("completed", whole.get(whole.size() - 1).getString("status"));
        for (String agent : ROSTER) {
            assertEquals(paced(30), contents(whole).get(agent));
        }
    }

    @Test
    void stoppingOneAgentEndsItAloneThenStoppingTheRunEndsAll() throws Exception {
        User user = new User();
        String task = "Stop " + UUID.randomUUID();
        try (WsClient ws = user.socket(null)) {
            ws.send(run(task, "paced:400:25", null));
            List<JsonObject> frames = new ArrayList<>(ws.until(f -> "agent_output".equals(f.getString("type")), 30));
            String runId = frames.get(0).getString("runId");
            FakeUpstream.Call plannerCall = upstream.call(
                    AgentPrompts.request(null, spec("planner"), task, List.of()).lastUserMessage())
                    .get(5, TimeUnit.SECONDS);

            long stopped = System.nanoTime();
            ws.send(Json.createObjectBuilder().add("type", "stop").add("runId", runId).add("agent", "planner").build());
            frames.addAll(ws.until(f -> "planner".equals(f.getString("agent", null))
                    && "stopped".equals(f.getString("status", null)), 10));
            assertTrue(millis(plannerCall.closedByClient.get(5, TimeUnit.SECONDS) - stopped) < 1000,
                    "the planner's upstream request is closed within a second");

            // the others go on, reading what the planner wrote before the stop
            frames.addAll(ws.until(f -> "agent_output".equals(f.getString("type"))
                    && "critic".equals(f.getString("agent")), 10));
            frames.addAll(ws.until(f -> "agent_output".equals(f.getString("type"))
                    && "researcher".equals(f.getString("agent")), 10));
            String plannerText = contents(frames).get("planner");
            assertTrue(plannerText.startsWith("w0 ") && plannerText.length() < paced(400).length(), plannerText);
            // researcher and critic send the same user message (task and plan); the fake records the first of them
            FakeUpstream.Call parallelCall = upstream.call(AgentPrompts.request(null, spec("researcher"), task,
                    List.of(new AgentPrompts.Input("planner", plannerText))).lastUserMessage()).get(5, TimeUnit.SECONDS);

            long stoppedAll = System.nanoTime();
            ws.send(Json.createObjectBuilder().add("type", "stop").add("runId", runId).build());
            frames.addAll(ws.until(type("run_complete"), 10));
            assertTrue(millis(parallelCall.closedByClient.get(5, TimeUnit.SECONDS) - stoppedAll) < 1000);
            assertEquals("stopped", frames.get(frames.size() - 1).getString("status"));
            assertEquals(List.of("running", "stopped"), statuses(frames, "planner"));
            assertEquals(List.of("running", "stopped"), statuses(frames, "researcher"));
            assertEquals(List.of("running", "stopped"), statuses(frames, "critic"));
            assertEquals(List.of("stopped"), statuses(frames, "writer"), "the writer never started");
            assertGapless(frames);

            JsonArray messages = user.getArray("api/conversations/" + frames.get(0).getString("conversationId")
                    + "/messages");
            assertEquals(4, messages.size(), "the task and three agents; the writer produced nothing");
            JsonObject planner = messages.getJsonObject(1);
            assertEquals("planner", planner.getString("agent"));
            assertEquals("stopped", planner.getString("status"));
            assertEquals(plannerText, planner.getString("content"));
        }
    }

    @Test
    void aRunNobodyFollowsIsCancelledAfterTheResumeGrace() throws Exception {
        User user = new User();
        String task = "Abandoned " + UUID.randomUUID();
        String runId;
        try (WsClient ws = user.socket(null)) {
            ws.send(run(task, "paced:400:25", Json.createArrayBuilder().add("planner").build()));
            runId = ws.until(f -> "agent_output".equals(f.getString("type")), 30).get(0).getString("runId");
            ws.cut();
        }
        long cut = System.nanoTime();
        FakeUpstream.Call call = upstream.call(AgentPrompts.request(null, spec("planner"), task, List.of())
                .lastUserMessage()).get(5, TimeUnit.SECONDS);
        long closedAfter = millis(call.closedByClient.get(RESUME_GRACE_MS + 5000, TimeUnit.MILLISECONDS) - cut);
        assertTrue(closedAfter >= RESUME_GRACE_MS - 500, "kept for the grace period: " + closedAfter + " ms");
        try (WsClient ws = user.socket(null)) {
            ws.send(Json.createObjectBuilder().add("type", "resume").add("runId", runId).add("afterSequence", 0).build());
            List<JsonObject> frames = ws.until(type("run_complete"), 10);
            assertEquals("stopped", frames.get(frames.size() - 1).getString("status"));
            JsonArray messages = user.getArray("api/conversations/" + frames.get(0).getString("conversationId")
                    + "/messages");
            assertEquals("partial", messages.getJsonObject(1).getString("status"));
        }
    }

    @Test
    void badAndForeignFramesGetErrorFramesAndTheSessionStillWorks() throws Exception {
        User owner = new User();
        User other = new User();
        int conversationsBefore = other.getArray("api/conversations").size();
        try (WsClient theirs = owner.socket(null); WsClient ws = other.socket(null)) {
            theirs.send(run("Theirs " + UUID.randomUUID(), "paced:40:25", Json.createArrayBuilder().add("planner")
                    .build()));
            String foreignRun = theirs.next(30).getString("runId");

            assertError(ws, "not json", "BAD_FRAME");
            assertError(ws, "[1, 2]", "BAD_FRAME");
            assertError(ws, "{}", "BAD_FRAME");
            assertError(ws, "{\"type\":\"dance\"}", "UNKNOWN_TYPE");
            assertError(ws, "{\"type\":\"run\"}", "BAD_FRAME");
            assertError(ws, "{\"type\":\"run\",\"task\":42}", "BAD_FRAME");
            assertError(ws, "{\"type\":\"run\",\"task\":\"x\",\"agents\":[\"wizard\"]}", "INVALID_ROSTER");
            assertError(ws, "{\"type\":\"run\",\"task\":\"x\",\"agents\":[\"planner\",\"planner\"]}", "INVALID_ROSTER");
            assertError(ws, run("x".repeat(70_000), null, null).toString(), "FRAME_TOO_LARGE");
            assertError(ws, "{\"type\":\"resume\",\"runId\":\"" + UUID.randomUUID() + "\"}", "RUN_NOT_FOUND");
            assertError(ws, "{\"type\":\"resume\",\"runId\":\"" + foreignRun + "\",\"afterSequence\":0}",
                    "RUN_NOT_FOUND");
            assertError(ws, "{\"type\":\"stop\",\"runId\":\"" + foreignRun + "\"}", "RUN_NOT_FOUND");
            assertError(ws, "{\"type\":\"resume\",\"runId\":\"" + foreignRun + "\",\"afterSequence\":-1}", "BAD_FRAME");
            // hostile input (issue 11): deep nesting and a lone surrogate are refused, never run
            assertError(ws, "{\"type\":\"run\",\"task\":" + "[".repeat(1000) + "]".repeat(1000) + "}", "BAD_FRAME");
            assertError(ws, "{\"type\":\"run\",\"task\":\"a\\udfff\",\"agents\":[\"planner\"]}", "BAD_FRAME");

            // the foreign run was not touched, and nothing was saved for the bad frames
            List<JsonObject> theirFrames = theirs.until(type("run_complete"), 30);
            assertEquals("completed", theirFrames.get(theirFrames.size() - 1).getString("status"));
            assertEquals(conversationsBefore, other.getArray("api/conversations").size());

            // the session still works
            ws.send(run("Still works " + UUID.randomUUID(), "paced:5:10", Json.createArrayBuilder().add("planner")
                    .build()));
            List<JsonObject> frames = ws.until(type("run_complete"), 30);
            assertEquals("completed", frames.get(frames.size() - 1).getString("status"));
            assertEquals(paced(5), contents(frames).get("planner"));
            assertError(ws, "{\"type\":\"stop\",\"runId\":\"" + frames.get(0).getString("runId")
                    + "\",\"agent\":\"wizard\"}", "AGENT_NOT_FOUND");
        }
    }

    @Test
    void theGuardReplacesASessionOfTheSameTabAndCapsSessionsPerUser() throws Exception {
        User user = new User();
        WsClient first = user.socket("same-tab");
        WsClient second = user.socket("same-tab");
        assertEquals(1001, first.closedWith.get(5, TimeUnit.SECONDS), "the older session of the tab is closed");
        List<WsClient> open = new ArrayList<>(List.of(second));
        try {
            for (int i = 0; i < 7; i++) {
                open.add(user.socket("tab-" + i));
            }
            WsClient refused = user.socket("one-too-many");
            JsonObject error = refused.next(5);
            assertEquals("TOO_MANY_CONNECTIONS", error.getString("code"));
            assertEquals(1008, refused.closedWith.get(5, TimeUnit.SECONDS));
            // the eight live sessions still work
            WsClient last = open.get(open.size() - 1);
            last.send(run("Capped " + UUID.randomUUID(), "paced:3:10", Json.createArrayBuilder().add("planner")
                    .build()));
            List<JsonObject> frames = last.until(type("run_complete"), 30);
            assertEquals("completed", frames.get(frames.size() - 1).getString("status"));
        } finally {
            open.forEach(WsClient::close);
        }
    }

    @Test
    void concurrentHandshakesOfTwoUsersKeepTheirOwnIdentities() throws Exception {
        User a = new User();
        User b = new User();
        String tag = UUID.randomUUID().toString();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            var go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<String>> tasks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                User user = i % 2 == 0 ? a : b;
                String task = (user == a ? "A " : "B ") + tag + " " + i;
                tasks.add(pool.submit(() -> {
                    go.await();
                    try (WsClient ws = user.socket(null)) {
                        ws.send(run(task, "paced:2:10", Json.createArrayBuilder().add("planner").build()));
                        ws.until(type("run_complete"), 30);
                    }
                    return task;
                }));
            }
            go.countDown();
            for (var t : tasks) {
                t.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (User user : List.of(a, b)) {
            String mine = (user == a ? "A " : "B ") + tag;
            List<String> seen = user.getArray("api/agents/runs").getValuesAs(JsonObject.class).stream()
                    .map(r -> r.getString("task")).toList();
            assertEquals(4, seen.size(), seen.toString());
            assertTrue(seen.stream().allMatch(t -> t.startsWith(mine)), "each user sees only their runs: " + seen);
        }
    }

    @Test
    void aPeerThatNeverAnswersPingsIsReaped() throws Exception {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + base.getPath() + "ws/agents HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            long opened = System.nanoTime();
            int pings = 0;
            boolean closed = false;
            try {
                while (!closed) {
                    int first = in.read();
                    if (first < 0) {
                        closed = true;
                        break;
                    }
                    int length = in.read() & 0x7f; // server frames are unmasked; control frames are short
                    in.readNBytes(length);
                    int opcode = first & 0x0f;
                    if (opcode == 0x9) {
                        pings++;
                    } else if (opcode == 0x8) {
                        closed = true;
                    }
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("a peer that never answers pings was not reaped within 20 s");
            } catch (IOException e) {
                closed = true; // reset by the server
            }
            long after = millis(System.nanoTime() - opened);
            assertTrue(pings >= 1, "the server pinged");
            assertTrue(after >= 3000, "not reaped before it missed pongs: " + after + " ms");
        }
    }

    // --- helpers

    private static JsonObject run(String task, String model, JsonArray agents) {
        var frame = Json.createObjectBuilder().add("type", "run").add("task", task);
        if (model != null) {
            frame.add("model", model);
        }
        if (agents != null) {
            frame.add("agents", agents);
        }
        return frame.build();
    }

    private static void assertError(WsClient ws, String frame, String code) throws InterruptedException {
        ws.send(frame);
        JsonObject error = ws.next(10);
        assertEquals("error", error.getString("type"), error.toString());
        assertEquals(code, error.getString("code"), error.toString());
        assertFalse(error.getString("error").isBlank());
    }

    private static AgentSpec spec(String name) {
        return Roster.defaults().agents().stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow();
    }

    /** What {@code paced:N:MS} streams. */
    private static String paced(int n) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < n; i++) {
            text.append('w').append(i).append(' ');
        }
        return text.toString();
    }

    private static void assertGapless(List<JsonObject> frames) {
        for (int i = 0; i < frames.size(); i++) {
            assertEquals(i + 1, frames.get(i).getInt("sequence"), "sequence of frame " + i);
        }
    }

    private static Map<String, String> contents(List<JsonObject> frames) {
        Map<String, String> text = new LinkedHashMap<>();
        for (JsonObject f : frames) {
            if ("agent_output".equals(f.getString("type")) && f.containsKey("content")) {
                text.merge(f.getString("agent"), f.getString("content"), String::concat);
            }
        }
        return text;
    }

    private static List<String> statuses(List<JsonObject> frames, String agent) {
        return frames.stream().filter(f -> "agent_status".equals(f.getString("type"))
                && agent.equals(f.getString("agent"))).map(f -> f.getString("status")).toList();
    }

    private static int index(List<JsonObject> frames, String agent, String status) {
        for (int i = 0; i < frames.size(); i++) {
            JsonObject f = frames.get(i);
            if ("agent_status".equals(f.getString("type")) && agent.equals(f.getString("agent"))
                    && status.equals(f.getString("status"))) {
                return i;
            }
        }
        throw new AssertionError(agent + " never had status " + status);
    }

    /** Whether the output frames of {@code a} and {@code b} alternate at least twice (a, b, a or b, a, b). */
    private static boolean interleaved(List<JsonObject> frames, String a, String b) {
        List<String> order = frames.stream().filter(f -> "agent_output".equals(f.getString("type")))
                .map(f -> f.getString("agent")).filter(n -> n.equals(a) || n.equals(b)).toList();
        int switches = 0;
        for (int i = 1; i < order.size(); i++) {
            if (!order.get(i).equals(order.get(i - 1))) {
                switches++;
            }
        }
        return switches >= 2;
    }

    private static List<String> strings(JsonArray array) {
        return array.getValuesAs(jakarta.json.JsonString.class).stream().map(jakarta.json.JsonString::getString)
                .toList();
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            head.append((char) c);
        }
        return head.toString();
    }

    /** When the suite runs against PostgreSQL (SLUICE_DB_URL), the rows must be there, not only in the API. */
    private static void assertRowsInPostgresql(String runId, String conversationId, String runStatus, int agents)
            throws Exception {
        String url = System.getenv("SLUICE_DB_URL");
        if (url == null || !url.startsWith("jdbc:postgresql:")) {
            return;
        }
        String dbUser = System.getenv().getOrDefault("SLUICE_DB_USER", "postgres");
        try (var c = DriverManager.getConnection(url, dbUser, System.getenv("SLUICE_DB_PASSWORD"))) {
            try (var s = c.prepareStatement("SELECT status, conversation_id FROM agent_runs WHERE id = ?")) {
                s.setString(1, runId);
                try (var rs = s.executeQuery()) {
                    assertTrue(rs.next(), "agent_runs row in PostgreSQL");
                    assertEquals(runStatus, rs.getString(1));
                    assertEquals(conversationId, rs.getString(2));
                }
            }
            try (var s = c.prepareStatement("SELECT count(*) FROM messages WHERE conversation_id = ? "
                    + "AND role = 'assistant' AND agent IS NOT NULL")) {
                s.setString(1, conversationId);
                try (var rs = s.executeQuery()) {
                    assertTrue(rs.next());
                    assertEquals(agents, rs.getInt(1), "agent messages in PostgreSQL");
                }
            }
        }
    }

    /** One anonymous user: its own cookie jar, shared by its HTTP requests and its WebSocket sessions. */
    private final class User {
        final CookieManager cookies = new CookieManager();
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).cookieHandler(cookies)
                .connectTimeout(Duration.ofSeconds(10)).build();

        User() throws Exception {
            getArray("api/conversations"); // the first response gives the identity cookie
        }

        String cookieHeader() {
            List<HttpCookie> all = cookies.getCookieStore().getCookies();
            assertFalse(all.isEmpty(), "the user has an identity cookie");
            return all.stream().map(c -> c.getName() + "=" + c.getValue()).collect(Collectors.joining("; "));
        }

        WsClient socket(String clientId) throws Exception {
            return WsClient.open(http, URI.create(base.toString()), cookieHeader(), clientId);
        }

        JsonObject getObject(String path) throws Exception {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Json.createReader(new java.io.StringReader(r.body())).readObject();
        }

        JsonArray getArray(String path) throws Exception {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base.toString()).resolve(path))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return Json.createReader(new java.io.StringReader(r.body())).readArray();
        }
    }
}
