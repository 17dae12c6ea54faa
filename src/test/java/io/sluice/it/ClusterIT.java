package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.net.CookieManager;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Black-box tests of a cluster (issue 10): two Payara Micro nodes with the same {@code target/sluice.war}, the same
 * database and the same Redis ({@code SLUICE_REDIS_URL}), started by the suite as separate processes, and nginx in
 * front of them with {@code server-config/nginx/sluice.conf} (round-robin, no sticky sessions). A stream started on
 * node A is followed, resumed, polled, listed and stopped on node B, directly and through nginx.
 *
 * <p>Starts its own {@code redis-server} (Debian's; {@code .ci/run} installs it) on a free port, so that one test can
 * restart it; needs Debian's nginx for the nginx test. Each is skipped with a message where it is missing. The database is the suites' PostgreSQL when {@code SLUICE_DB_URL} names one,
 * else an H2 file shared in H2's mixed mode ({@code AUTO_SERVER}). The nodes inherit the test environment of the
 * other suites (pom.xml: 2 s heartbeat, 3 s resume grace, 2 s unload grace).
 */
class ClusterIT {

    /** "Within 1 s", plus what the test itself needs to notice (its own HTTP round trip, queue hand-offs). */
    private static final long ONE_SECOND_MS = 1000 + 250;
    static Path redisServer;
    static int redisPort;
    static Process redis;
    static String redisUrl;
    static FakeUpstream upstream;
    static Node a;
    static Node b;
    static Nginx nginx;
    static URI front;

    /** One Payara Micro process with the WAR. */
    static final class Node {
        final String name;
        final int port;
        final Process process;
        final Path log;

        Node(String name, int port, Process process, Path log) {
            this.name = name;
            this.port = port;
            this.process = process;
            this.log = log;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + "/" + path);
        }
    }

    @BeforeAll
    static void startCluster() throws Exception {
        redisServer = Stream.of("/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server")
                .map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(redisServer != null,
                "no redis-server (Debian's package; .ci/run installs it): the cluster suite is skipped");
        Path dir = Files.createDirectories(Path.of("target", "cluster-it").toAbsolutePath());
        redisPort = freePort();
        redisUrl = "redis://127.0.0.1:" + redisPort;
        startRedis(dir);
        upstream = new FakeUpstream(Integer.getInteger("sluice.it.upstream.port", 18089));
        String db = System.getenv("SLUICE_DB_URL");
        if (db == null || !db.startsWith("jdbc:postgresql:")) {
            db = "jdbc:h2:file:" + dir.resolve("sluice") + ";MODE=LEGACY;AUTO_SERVER=TRUE";
        }
        // one after the other: the first runs the database migrations alone
        a = startNode("a", db, dir);
        awaitReady(a);
        b = startNode("b", db, dir);
        awaitReady(b);
        Path nginxBinary = Nginx.binary();
        if (nginxBinary != null) {
            nginx = Nginx.start(nginxBinary, dir.resolve("nginx"), List.of(a.port, b.port));
            front = URI.create("http://127.0.0.1:" + nginx.port + "/");
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (nginx != null) {
            nginx.close();
        }
        for (Node node : new Node[] {a, b}) {
            if (node != null) {
                node.process.destroy();
            }
        }
        for (Node node : new Node[] {a, b}) {
            if (node != null && !node.process.waitFor(30, TimeUnit.SECONDS)) {
                node.process.destroyForcibly();
            }
        }
        if (upstream != null) {
            upstream.close();
        }
        if (redis != null) {
            redis.destroy();
        }
    }

    /** A Redis of the suite's own, on {@link #redisPort}, without persistence (as {@code .ci/run} starts one). */
    private static void startRedis(Path dir) throws Exception {
        redis = new ProcessBuilder(redisServer.toString(), "--port", Integer.toString(redisPort), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
        long up = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!reachable("127.0.0.1", redisPort)) {
            assertTrue(redis.isAlive() && System.nanoTime() < up, "redis-server started; see " + dir);
            Thread.sleep(50);
        }
    }

    private static Node startNode(String name, String db, Path dir) throws Exception {
        int port = freePort();
        Path log = dir.resolve("node-" + name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Djdk.httpclient.bufsize=4096", "-jar",
                System.getenv("MICRO_JAR"), "--nohazelcast", "--port", Integer.toString(port),
                "--prebootcommandfile", System.getProperty("sluice.preboot"),
                "--deploy", System.getProperty("sluice.war"), "--contextroot", "/")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SLUICE_REDIS_URL", redisUrl);
        pb.environment().put("SLUICE_DB_URL", db);
        return new Node(name, port, pb.start(), log);
    }

    private static void awaitReady(Node node) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (System.nanoTime() < deadline) {
            assertTrue(node.process.isAlive(), "node " + node.name + " is running; see " + node.log);
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(node.uri("health/ready"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("redis")) {
                    return;
                }
            } catch (IOException notYet) {
                // booting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("node " + node.name + " was not ready within 240 s; see " + node.log);
    }

    // --- any node serves any stream

    @Test
    void aStreamStartedOnOneNodeIsResumedOnTheOtherByEventIdOffsetAndPollingExactlyOnce() throws Exception {
        User user = new User();
        String marker = "cluster resume " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:150:30");
        String expected = FakeUpstream.pacedText(150);

        // A, cut; B by Last-Event-ID, cut; A by Last-Event-ID, cut
        List<SseClient.Event> seen = new ArrayList<>();
        String lastId = null;
        Node[] order = {a, b, a, b};
        int[] reads = {5, 7, 4, 6};
        for (int i = 0; i < order.length; i++) {
            SseClient tab = follow(user, order[i], id, "tab-1", lastId);
            List<SseClient.Event> got = tab.takeThenDisconnect(reads[i], 20);
            assertNoTerminal(got);
            seen.addAll(got);
            lastId = got.get(got.size() - 1).id();
            Thread.sleep(100);
        }
        assertIncreasingIds(seen);
        StringBuilder text = new StringBuilder(SseClient.deltas(seen));

        // B by character offset (POST /api/chat/resume), cut
        SseClient byOffset = SseClient.post(user.http, b.uri("api/chat/resume"), Json.createObjectBuilder()
                .add("streamId", id).add("offset", text.length()).build().toString(),
                Map.of("X-Sluice-Client-Id", "tab-1"));
        assertEquals(200, byOffset.status, byOffset.errorBody);
        List<SseClient.Event> got = byOffset.takeThenDisconnect(5, 20);
        assertNoTerminal(got);
        text.append(SseClient.deltas(got));
        assertTrue(expected.startsWith(text.toString()), "a prefix of the answer after the offset resume: " + text);

        // then polling on B from the last event id seen, to the end
        long after = Long.parseLong(got.get(got.size() - 1).id());
        String status;
        do {
            JsonObject poll = getJson(user, b, "api/streams/" + id + "?after=" + after + "&wait=5");
            status = poll.getString("status");
            for (JsonValue v : poll.getJsonArray("events")) {
                JsonObject e = v.asJsonObject();
                assertEquals(after + 1, e.getJsonNumber("id").longValue(), "polled events follow on: " + poll);
                after = e.getJsonNumber("id").longValue();
                if ("message".equals(e.getString("event"))) {
                    text.append(e.getJsonObject("data").getString("delta", ""));
                }
            }
        } while (!"completed".equals(status) && !"error".equals(status) && !"stopped".equals(status));
        assertEquals("completed", status);
        assertEquals(expected, text.toString(), "every character exactly once across nodes");

        // both nodes tell the same state; the answer is saved once
        JsonObject onA = getJson(user, a, "api/streams/" + id);
        JsonObject onB = getJson(user, b, "api/streams/" + id);
        assertEquals("completed", onA.getString("status"));
        assertEquals("completed", onB.getString("status"), onB::toString);
        assertEquals(expected, onB.getString("content"));
        assertEquals(onA.getString("messageId"), onB.getString("messageId"));
        JsonArray messages = getArray(user, b, "api/conversations/" + onA.getString("conversationId") + "/messages");
        assertEquals(1, messages.stream().filter(m -> "assistant".equals(m.asJsonObject().getString("role"))).count(),
                "one saved answer: " + messages);
        upstream.call(marker).get(5, TimeUnit.SECONDS).finished.get(5, TimeUnit.SECONDS);
    }

    @Test
    void theActiveListOfEitherNodeHoldsTheOwnersStreamsOfBoth() throws Exception {
        User user = new User();
        String onA = startChat(user, a, "cluster list a " + UUID.randomUUID(), "paced:100:40");
        String onB = startChat(user, b, "cluster list b " + UUID.randomUUID(), "paced:100:40");
        for (Node node : new Node[] {a, b}) {
            JsonArray active = getArray(user, node, "api/streams?status=active");
            List<String> ids = active.stream().map(v -> v.asJsonObject().getString("id")).toList();
            assertTrue(ids.contains(onA) && ids.contains(onB), "node " + node.name + " lists both: " + active);
        }
        User other = new User();
        getJson(other, b, "api/info");
        assertEquals(0, getArray(other, b, "api/streams?status=active").size(), "another user sees none of them");
        assertEquals(404, send(other, b, "GET", "api/streams/" + onA, null, null).statusCode(),
                "another user's stream is not found on the other node");
        for (String id : List.of(onA, onB)) {
            assertEquals(202, send(user, b, "POST", "api/streams/" + id + "/stop", null, null).statusCode());
        }
    }

    // --- control reaches the generating node

    @Test
    void aStopSentToTheOtherNodeStopsEveryFollowerAndTheUpstreamWithinOneSecond() throws Exception {
        User user = new User();
        String marker = "cluster stop " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:300:40");
        SseClient onA = follow(user, a, id, "tab-a", null);
        SseClient onB = follow(user, b, id, "tab-b", null);
        List<SseClient.Event> eventsOfA = new ArrayList<>(onA.take(6, 20));
        List<SseClient.Event> eventsOfB = new ArrayList<>(onB.take(6, 20));
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);

        long stopAt = System.nanoTime();
        HttpResponse<String> stop = send(user, b, "POST", "api/streams/" + id + "/stop", null, null);
        assertEquals(202, stop.statusCode(), stop.body());
        eventsOfA.addAll(SseClient.withoutPings(onA.untilTerminal(5)));
        long millisA = millisSince(stopAt);
        eventsOfB.addAll(SseClient.withoutPings(onB.untilTerminal(5)));
        long millisB = millisSince(stopAt);
        long closedMillis = call.closedMillisAfter(stopAt, 5);

        assertEquals(eventsOfA, eventsOfB, "the followers on both nodes saw the same events");
        SseClient.Event stopped = SseClient.last(eventsOfB);
        assertEquals("stopped", stopped.name(), () -> "terminal event " + stopped);
        assertEquals("user", stopped.data().getString("reason"));
        assertTrue(millisA <= ONE_SECOND_MS, "node A's follower got stopped " + millisA + " ms after the stop");
        assertTrue(millisB <= ONE_SECOND_MS, "node B's follower got stopped " + millisB + " ms after the stop");
        assertTrue(closedMillis <= ONE_SECOND_MS, "upstream closed " + closedMillis + " ms after the stop on B");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");
        String saved = awaitAnswer(user, b, getJson(user, b, "api/streams/" + id).getString("conversationId"))
                .getString("content");
        assertEquals(SseClient.deltas(eventsOfB), saved, "the text seen is the text saved");
    }

    @Test
    void anUnloadBeaconSentToTheOtherNodeAbortsAfterTheUnloadGrace() throws Exception {
        User user = new User();
        String marker = "cluster unload " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:300:40");
        SseClient tab = follow(user, a, id, "tab-1", null);
        tab.take(5, 20);
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        long beaconAt = System.nanoTime();
        HttpResponse<String> beacon = send(user, b, "POST", "api/chat/abort", "text/plain;charset=UTF-8",
                Json.createObjectBuilder().add("streamId", id).add("reason", "unload").build().toString());
        assertEquals(204, beacon.statusCode(), beacon.body());
        tab.disconnect(); // the tab closes
        long closedMillis = call.closedMillisAfter(beaconAt, 10);
        assertTrue(closedMillis >= 1_900 && closedMillis <= 2_000 + ONE_SECOND_MS,
                "the upstream closed after the 2 s unload grace: " + closedMillis + " ms");
        JsonObject state = awaitStatus(user, b, id, "stopped");
        assertEquals("unload", state.getString("endReason"));
    }

    @Test
    void aReloadThatReattachesOnTheOtherNodeCancelsTheUnloadAbort() throws Exception {
        User user = new User();
        String marker = "cluster reload " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:120:40");
        SseClient tab = follow(user, a, id, "tab-1", null);
        List<SseClient.Event> seen = new ArrayList<>(tab.take(5, 20));
        long beaconAt = System.nanoTime();
        HttpResponse<String> beacon = send(user, a, "POST", "api/chat/abort", "text/plain;charset=UTF-8",
                Json.createObjectBuilder().add("streamId", id).add("reason", "unload").build().toString());
        assertEquals(204, beacon.statusCode(), beacon.body());
        tab.disconnect();
        Thread.sleep(500); // the page reloads; its new connection lands on the other node
        SseClient reloaded = follow(user, b, id, "tab-1", SseClient.last(seen).id());
        seen.addAll(SseClient.withoutPings(reloaded.untilTerminal(30)));
        assertTrue(millisSince(beaconAt) > 2_000, "the stream outlived the unload grace");
        assertEquals("done", SseClient.last(seen).name(), () -> "terminal event " + SseClient.last(seen));
        assertIncreasingIds(seen);
        assertEquals(FakeUpstream.pacedText(120), SseClient.deltas(seen));
        assertFalse(upstream.call(marker).get(5, TimeUnit.SECONDS).closedByClient.isDone(),
                "the upstream ran to its end");
    }

    @Test
    void aStreamFollowedOnlyOnTheOtherNodeOutlivesTheResumeGrace() throws Exception {
        User user = new User();
        String marker = "cluster grace " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:150:40"); // about 6 s, twice the 3 s resume grace
        SseClient onB = follow(user, b, id, "tab-1", null);
        List<SseClient.Event> events = SseClient.withoutPings(onB.untilTerminal(30));
        assertEquals("done", SseClient.last(events).name(), () -> "terminal event " + SseClient.last(events));
        assertEquals(FakeUpstream.pacedText(150), SseClient.deltas(events));
    }

    // --- multi-agent runs

    @Test
    void aMultiAgentRunStartedOnOneNodeResumesOnTheOtherWithNoGapAndItsAgentsAndItStopFromThere() throws Exception {
        User user = new User();
        List<JsonObject> before = new ArrayList<>();
        String runId;
        try (WsClient onA = user.socket(a, "tab-1")) {
            onA.send(Json.createObjectBuilder().add("type", "run").add("task", "cluster run " + UUID.randomUUID())
                    .add("model", "paced:30:25").build());
            while (before.size() < 15) {
                before.add(onA.next(30));
            }
            runId = before.get(0).getString("runId");
            onA.cut();
        }
        long last = before.get(before.size() - 1).getInt("sequence");
        List<JsonObject> after;
        try (WsClient onB = user.socket(b, "tab-2")) {
            onB.send(Json.createObjectBuilder().add("type", "resume").add("runId", runId).add("afterSequence", last)
                    .build());
            after = onB.until(WsClient.type("run_complete"), 60);
        }
        List<JsonObject> whole;
        try (WsClient again = user.socket(a, "tab-3")) {
            again.send(Json.createObjectBuilder().add("type", "resume").add("runId", runId).add("afterSequence", 0)
                    .build());
            whole = again.until(WsClient.type("run_complete"), 30);
        }
        List<JsonObject> union = new ArrayList<>(before);
        union.addAll(after);
        assertEquals(whole, union, "the frames before the cut on A and after the resume on B are the whole run");
        for (int i = 0; i < whole.size(); i++) {
            assertEquals(i + 1, whole.get(i).getInt("sequence"), "sequence of frame " + i);
        }
        assertEquals("completed", whole.get(whole.size() - 1).getString("status"));

        // a run on A, stopped from a session on B
        try (WsClient onA = user.socket(a, "tab-4"); WsClient onB = user.socket(b, "tab-5")) {
            onA.send(Json.createObjectBuilder().add("type", "run").add("task", "cluster stop " + UUID.randomUUID())
                    .add("model", "paced:400:25").build());
            String second = onA.until(f -> "agent_output".equals(f.getString("type")), 30).get(0).getString("runId");
            onB.send(Json.createObjectBuilder().add("type", "resume").add("runId", second).add("afterSequence", 0)
                    .build());
            onB.until(f -> "agent_output".equals(f.getString("type")), 30);
            // one agent first: the planner stops, on A, and both sessions see it
            onB.send(Json.createObjectBuilder().add("type", "stop").add("runId", second).add("agent", "planner")
                    .build());
            java.util.function.Predicate<JsonObject> plannerStopped = f -> "planner".equals(f.getString("agent", null))
                    && "stopped".equals(f.getString("status", null));
            onA.until(plannerStopped, 10);
            onB.until(plannerStopped, 10);
            long stopAt = System.nanoTime();
            onB.send(Json.createObjectBuilder().add("type", "stop").add("runId", second).build());
            JsonObject endOnA = onA.until(WsClient.type("run_complete"), 10).stream()
                    .filter(WsClient.type("run_complete")).findFirst().orElseThrow();
            assertEquals("stopped", endOnA.getString("status"), endOnA::toString);
            assertTrue(millisSince(stopAt) <= 2 * ONE_SECOND_MS, "stopped from B within 2 s: " + millisSince(stopAt));
            JsonObject endOnB = onB.until(WsClient.type("run_complete"), 10).stream()
                    .filter(WsClient.type("run_complete")).findFirst().orElseThrow();
            assertEquals(endOnA, endOnB, "both sessions saw the same end");
        }
    }

    // --- cluster-wide caps and guard

    @Test
    void thePerOwnerCapsCountStreamsAndConnectionsOnEveryNode() throws Exception {
        User user = new User();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 16; i++) { // SLUICE_MAX_STREAMS_PER_OWNER: 16 by default
            ids.add(startChat(user, i % 2 == 0 ? a : b, "cluster cap " + i + " " + UUID.randomUUID(), "paced:400:40"));
        }
        for (Node node : new Node[] {a, b}) {
            HttpResponse<String> refused = send(user, node, "POST", "api/streams", "application/json",
                    Json.createObjectBuilder().add("type", "chat").add("message", "one too many")
                            .add("model", "paced:10:10").build().toString());
            assertEquals(429, refused.statusCode(), () -> node.name + ": " + refused.body());
        }
        // 8 connections (SLUICE_MAX_CONNECTIONS_PER_OWNER of the tests), 4 on each node; a ninth is refused
        List<SseClient> tabs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tabs.add(follow(user, i < 4 ? a : b, ids.get(i), "tab-" + i, null));
        }
        for (Node node : new Node[] {a, b}) {
            SseClient ninth = SseClient.get(user.http, node.uri("api/streams/" + ids.get(9) + "/events"),
                    Map.of("X-Sluice-Client-Id", "tab-9"));
            assertEquals(429, ninth.status, () -> node.name + ": " + ninth.errorBody);
        }
        // a connection that goes gives its place back, on its node and in the cluster
        tabs.get(0).disconnect();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        SseClient again;
        do {
            Thread.sleep(250);
            again = SseClient.get(user.http, b.uri("api/streams/" + ids.get(9) + "/events"),
                    Map.of("X-Sluice-Client-Id", "tab-9"));
        } while (again.status == 429 && System.nanoTime() < deadline);
        assertEquals(200, again.status, "a place came free on node A, and node B takes it");
        for (String id : ids) {
            assertEquals(202, send(user, a, "POST", "api/streams/" + id + "/stop", null, null).statusCode());
        }
        // and the stream places came free: the owner can start again on either node
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<String> started;
        do {
            Thread.sleep(250);
            started = send(user, b, "POST", "api/streams", "application/json", Json.createObjectBuilder()
                    .add("type", "chat").add("message", "after the stops").add("model", "paced:10:10").build()
                    .toString());
        } while (started.statusCode() == 429 && System.nanoTime() < until);
        assertEquals(201, started.statusCode(), started.body());
    }

    @Test
    void aTabThatReconnectsOnTheOtherNodeReplacesItsConnectionThere() throws Exception {
        User user = new User();
        String id = startChat(user, a, "cluster tab " + UUID.randomUUID(), "paced:200:40");
        SseClient first = follow(user, a, id, "tab-same", null);
        first.take(3, 20);
        SseClient second = follow(user, b, id, "tab-same", null);
        second.take(3, 20);
        assertTrue(first.awaitEnd(5), "the tab's older connection, on the other node, was closed");
        List<SseClient.Event> rest = SseClient.withoutPings(second.untilTerminal(30));
        assertEquals("done", SseClient.last(rest).name(), "the newer one goes on to the end");
    }

    // --- crash survival

    @Test
    void aNodeKilledWhileTwentyStreamsRunIsTakenOverItsTextSavedOnceAndItsFollowersToldNodeLost() throws Exception {
        Path dir = Path.of("target", "cluster-it").toAbsolutePath();
        Node c = startNode("c", System.getenv("SLUICE_DB_URL") != null
                && System.getenv("SLUICE_DB_URL").startsWith("jdbc:postgresql:") ? System.getenv("SLUICE_DB_URL")
                : "jdbc:h2:file:" + dir.resolve("sluice") + ";MODE=LEGACY;AUTO_SERVER=TRUE", dir);
        try {
            awaitReady(c);
            int n = 20;
            List<User> users = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            List<SseClient> followers = new ArrayList<>();
            List<List<SseClient.Event>> seen = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                User user = new User();
                users.add(user);
                ids.add(startChat(user, c, "cluster crash " + i + " " + UUID.randomUUID(), "paced:600:40"));
                followers.add(follow(user, b, ids.get(i), "tab-1", null)); // followed on another node
            }
            for (SseClient follower : followers) {
                seen.add(new ArrayList<>(follower.take(5, 20)));
            }
            long killedAt = System.nanoTime();
            c.process.destroyForcibly(); // SIGKILL: no shutdown hook, nothing saved by the node itself
            c.process.waitFor(10, TimeUnit.SECONDS);

            for (int i = 0; i < n; i++) {
                List<SseClient.Event> events = seen.get(i);
                events.addAll(SseClient.withoutPings(followers.get(i).untilTerminal(30)));
                assertIncreasingIds(events);
                SseClient.Event last = SseClient.last(events);
                assertEquals("error", last.name(), () -> "terminal event " + last);
                assertEquals("NODE_LOST", last.data().getString("code"), last::toString);
                String text = SseClient.deltas(events);
                assertTrue(FakeUpstream.pacedText(600).startsWith(text) && text.length() > 0,
                        "a proper prefix of the answer: " + text);

                User user = users.get(i);
                JsonObject state = getJson(user, b, "api/streams/" + ids.get(i));
                assertEquals("error", state.getString("status"), state::toString);
                assertEquals("node_lost", state.getString("endReason"), state::toString);
                String conversationId = state.getString("conversationId");
                JsonArray messages = getArray(user, a, "api/conversations/" + conversationId + "/messages");
                List<JsonObject> answers = messages.stream().map(JsonValue::asJsonObject)
                        .filter(m -> "assistant".equals(m.getString("role"))).toList();
                assertEquals(1, answers.size(), "one saved answer, not two: " + messages);
                assertEquals("partial", answers.get(0).getString("status"));
                assertEquals("node_lost", answers.get(0).getString("endReason"));
                assertEquals(text, answers.get(0).getString("content"),
                        "the saved text is what reached Redis, which is what the follower saw");
                assertEquals(last.data().getString("messageId"), answers.get(0).getString("id"));
            }
            long millis = millisSince(killedAt);
            assertTrue(millis < 20_000, "the followers were told within 20 s of the kill: " + millis + " ms");
        } finally {
            c.process.destroyForcibly();
        }
    }

    // --- Redis restarted

    @Test
    void redisRestartedMidStreamLosesNoAnswerAndHangsNoFollower() throws Exception {
        User user = new User();
        String marker = "cluster redis restart " + UUID.randomUUID();
        String id = startChat(user, a, marker, "paced:200:40"); // about 8 s
        SseClient onA = follow(user, a, id, "tab-a", null);
        SseClient onB = follow(user, b, id, "tab-b", null);
        List<SseClient.Event> seenOnA = new ArrayList<>(onA.take(5, 20));
        List<SseClient.Event> seenOnB = new ArrayList<>(onB.take(5, 20));
        redis.destroy(); // no persistence: everything in Redis is gone
        redis.waitFor(10, TimeUnit.SECONDS);
        Thread.sleep(1_000);
        startRedis(Path.of("target", "cluster-it").toAbsolutePath());

        // the generating node's follower gets the whole answer; the other node's goes on, or ends with NODE_LOST
        seenOnA.addAll(SseClient.withoutPings(onA.untilTerminal(40)));
        assertEquals("done", SseClient.last(seenOnA).name(), () -> "terminal event on A " + SseClient.last(seenOnA));
        assertEquals(FakeUpstream.pacedText(200), SseClient.deltas(seenOnA));
        seenOnB.addAll(SseClient.withoutPings(onB.untilTerminal(40)));
        SseClient.Event endOnB = SseClient.last(seenOnB);
        assertTrue("done".equals(endOnB.name())
                        || "error".equals(endOnB.name()) && "NODE_LOST".equals(endOnB.data().getString("code")),
                () -> "terminal event on B " + endOnB);
        assertIncreasingIds(seenOnB);
        assertTrue(FakeUpstream.pacedText(200).startsWith(SseClient.deltas(seenOnB)), "B saw a prefix, once");

        // saved once, completed, by the generating node; a reconnect on B now follows it from Redis again
        JsonObject state = awaitStatus(user, a, id, "completed");
        JsonArray messages = getArray(user, b, "api/conversations/" + state.getString("conversationId")
                + "/messages");
        List<JsonObject> answers = messages.stream().map(JsonValue::asJsonObject)
                .filter(m -> "assistant".equals(m.getString("role"))).toList();
        assertEquals(1, answers.size(), "one saved answer: " + messages);
        assertEquals("completed", answers.get(0).getString("status"));
        assertEquals(FakeUpstream.pacedText(200), answers.get(0).getString("content"));
        SseClient late = follow(user, b, id, "tab-late", null);
        List<SseClient.Event> all = SseClient.withoutPings(late.untilTerminal(20));
        assertEquals("done", SseClient.last(all).name(), "a late follower on B gets the whole stream from Redis");
        assertEquals(FakeUpstream.pacedText(200), SseClient.deltas(all));
        // the nodes are still one cluster: a stream of A is followed on B
        String next = startChat(user, a, "cluster after restart " + UUID.randomUUID(), "paced:20:20");
        List<SseClient.Event> events = SseClient.withoutPings(
                follow(user, b, next, "tab-next", null).untilTerminal(20));
        assertEquals(FakeUpstream.pacedText(20), SseClient.deltas(events));
    }

    // --- through nginx, round-robin

    @Test
    void throughNginxRoundRobinEveryResumeLandsOnEitherNodeAndNothingIsLostOrRepeated() throws Exception {
        Assumptions.assumeTrue(nginx != null, "no nginx (Debian's package; .ci/run installs it): skipped");
        User user = new User();
        String marker = "cluster nginx " + UUID.randomUUID();
        Node viaNginx = new Node("nginx", front.getPort(), null, null);
        String id = startChat(user, viaNginx, marker, "paced:150:30");
        List<SseClient.Event> seen = new ArrayList<>();
        String lastId = null;
        for (int k : new int[] {4, 6, 5, 7, 3, 6}) {
            SseClient tab = follow(user, viaNginx, id, "tab-1", lastId);
            List<SseClient.Event> got = tab.takeThenDisconnect(k, 20);
            assertNoTerminal(got);
            seen.addAll(got);
            lastId = got.get(got.size() - 1).id();
        }
        SseClient last = follow(user, viaNginx, id, "tab-1", lastId);
        seen.addAll(SseClient.withoutPings(last.untilTerminal(30)));
        assertIncreasingIds(seen);
        assertEquals("done", SseClient.last(seen).name());
        assertEquals(FakeUpstream.pacedText(150), SseClient.deltas(seen), "every character exactly once");
    }

    // --- helpers

    /** A user of the cluster: one cookie jar across both nodes and nginx (cookies are not port-bound). */
    private static final class User {
        final CookieManager cookies = new CookieManager();
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .cookieHandler(cookies).connectTimeout(Duration.ofSeconds(10)).build();

        /** A WebSocket session to {@code node}'s {@code /ws/agents}, with the user's identity cookie. */
        WsClient socket(Node node, String clientId) throws Exception {
            if (cookies.getCookieStore().getCookies().isEmpty()) {
                getJson(this, node, "api/info"); // the identity cookie
            }
            String cookie = cookies.getCookieStore().getCookies().stream().map(c -> c.getName() + "=" + c.getValue())
                    .collect(java.util.stream.Collectors.joining("; "));
            return WsClient.open(http, node.uri(""), cookie, clientId);
        }
    }

    private static String startChat(User user, Node node, String message, String model) throws Exception {
        HttpResponse<String> r = send(user, node, "POST", "api/streams", "application/json",
                Json.createObjectBuilder().add("type", "chat").add("message", message).add("model", model).build()
                        .toString());
        assertEquals(201, r.statusCode(), r.body());
        return SseClient.json(r.body()).getString("streamId");
    }

    private static SseClient follow(User user, Node node, String id, String clientId, String lastEventId)
            throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Sluice-Client-Id", clientId);
        if (lastEventId != null) {
            headers.put("Last-Event-ID", lastEventId);
        }
        SseClient sse = SseClient.get(user.http, node.uri("api/streams/" + id + "/events"), headers);
        assertEquals(200, sse.status, sse.errorBody);
        return sse;
    }

    private static HttpResponse<String> send(User user, Node node, String method, String path, String contentType,
                                             String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.uri(path)).timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return user.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject getJson(User user, Node node, String path) throws Exception {
        HttpResponse<String> r = send(user, node, "GET", path, null, null);
        assertEquals(200, r.statusCode(), () -> node.name + " " + path + ": " + r.body());
        return SseClient.json(r.body());
    }

    private static JsonArray getArray(User user, Node node, String path) throws Exception {
        HttpResponse<String> r = send(user, node, "GET", path, null, null);
        assertEquals(200, r.statusCode(), () -> node.name + " " + path + ": " + r.body());
        return Json.createReader(new java.io.StringReader(r.body())).readArray();
    }

    private static JsonObject awaitStatus(User user, Node node, String id, String status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonObject state;
        do {
            state = getJson(user, node, "api/streams/" + id);
            if (status.equals(state.getString("status"))) {
                return state;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("stream status not " + status + " within 10 s: " + state);
    }

    private static JsonObject awaitAnswer(User user, Node node, String conversationId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonArray messages;
        do {
            messages = getArray(user, node, "api/conversations/" + conversationId + "/messages");
            for (JsonValue v : messages) {
                if ("assistant".equals(v.asJsonObject().getString("role"))) {
                    return v.asJsonObject();
                }
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("no answer saved within 10 s: " + messages);
    }

    private static void assertNoTerminal(List<SseClient.Event> events) {
        for (SseClient.Event e : events) {
            assertFalse(List.of("done", "error", "stopped").contains(e.name()), "the stream ended too early: " + e);
        }
    }

    private static void assertIncreasingIds(List<SseClient.Event> events) {
        long previous = 0;
        for (SseClient.Event e : events) {
            long id = Long.parseLong(e.id());
            assertEquals(previous + 1, id, "event ids follow on without gap or repeat: " + events);
            previous = id;
        }
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static int freePort() throws IOException {
        try (ServerSocket free = new ServerSocket(0)) {
            return free.getLocalPort();
        }
    }

    private static boolean reachable(String host, int port) {
        try (Socket probe = new Socket(host, port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
