package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Black-box tests of streams that outlive connections (API.md section 3): resume by event id, by character
 * offset and by polling, several tabs, stop, beacon abort, the resume grace, the connection guard (same client
 * replaces, stalled readers are dropped, per-owner cap), typed streams and ownership. The deployed server runs
 * with a 2 s heartbeat, a 3 s resume grace, a 2 s unload grace and at most 8 SSE connections per owner (see the
 * failsafe configuration in pom.xml). Every test is its own anonymous user (own cookie jar).
 */
class StreamsIT extends BlackBoxTest {

    /** SLUICE_UNLOAD_GRACE_SECONDS of the tests, in ms. */
    private static final long UNLOAD_GRACE_MS = 2000;
    /** SLUICE_MAX_CONNECTIONS_PER_OWNER of the tests. */
    private static final int MAX_CONNECTIONS = 8;
    /** "Within 1 s", plus what the test itself needs to notice (its own HTTP round trip, queue hand-offs). */
    private static final long ONE_SECOND_MS = 1000 + 250;

    // --- 1. resume by event id

    @Test
    void fiveCutsResumedWithLastEventIdHeaderLoseAndRepeatNothing() throws Exception {
        cutFiveTimesAndResumeById(false);
    }

    @Test
    void fiveCutsResumedWithLastEventIdQueryParameterLoseAndRepeatNothing() throws Exception {
        cutFiveTimesAndResumeById(true);
    }

    private void cutFiveTimesAndResumeById(boolean query) throws Exception {
        User user = new User();
        String marker = "cuts " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:120:40");
        List<SseClient.Event> seen = new ArrayList<>();
        String lastId = null;
        int[] reads = {4, 9, 6, 12, 7};
        for (int k : reads) {
            SseClient tab = follow(user, id, "tab-1", lastId, query);
            List<SseClient.Event> got = tab.takeThenDisconnect(k, 20);
            assertNoTerminal(got, "the stream ended before the fifth cut");
            seen.addAll(got);
            lastId = got.get(got.size() - 1).id();
            Thread.sleep(150); // the generation goes on while nobody follows
        }
        SseClient tab = follow(user, id, "tab-1", lastId, query);
        seen.addAll(SseClient.withoutPings(tab.untilTerminal(30)));
        assertTrue(tab.awaitEnd(5), "the response ends after the terminal event");

        assertExactlyTheStream(user, id, seen);
        assertCompleted(user, id, seen, FakeUpstream.pacedText(120));
        upstream.call(marker).get(5, TimeUnit.SECONDS).finished.get(5, TimeUnit.SECONDS);
    }

    /**
     * Fifty cuts in a row, each resumed with Last-Event-ID as soon as the cut is made, every second one as a new tab
     * (a new client id: the cut connection is then not replaced, it lingers until its next write fails). Every
     * resumed connection must go on past its first event (issue 14: on Tomcat one sometimes got one event and then
     * nothing), and across the cuts every event, so every character, arrives exactly once.
     */
    @Test
    void fiftyCutsInARowEachResumedAtOnceKeepGettingEventsAndLoseAndRepeatNothing() throws Exception {
        User user = new User();
        String marker = "fifty cuts " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:300:40");
        List<SseClient.Event> seen = new ArrayList<>();
        String lastId = null;
        for (int cut = 0; cut < 50; cut++) {
            String clientId = cut % 2 == 0 ? "tab-1" : "tab-new-" + cut;
            SseClient tab = follow(user, id, clientId, lastId, false);
            List<SseClient.Event> got;
            try {
                got = tab.takeThenDisconnect(2 + cut % 2, 10);
            } catch (AssertionError e) {
                throw new AssertionError("connection " + (cut + 1) + " (after Last-Event-ID " + lastId + "): "
                        + e.getMessage(), e);
            }
            assertNoTerminal(got, "the stream ended before the fiftieth cut");
            seen.addAll(got);
            lastId = got.get(got.size() - 1).id();
        }
        SseClient tab = follow(user, id, "tab-1", lastId, false);
        seen.addAll(SseClient.withoutPings(tab.untilTerminal(30)));
        assertTrue(tab.awaitEnd(5), "the response ends after the terminal event");

        assertExactlyTheStream(user, id, seen);
        assertCompleted(user, id, seen, FakeUpstream.pacedText(300));
        upstream.call(marker).get(5, TimeUnit.SECONDS).finished.get(5, TimeUnit.SECONDS);
    }

    /**
     * Followers of an ended stream, 3,000 one after another on four kept-alive connections, while another tab's
     * connections are cut again and again: each gets the whole stream, terminal event included. Issue 14: right after
     * an SSE resource method returns, Jersey flushes the sink on the request thread; a writer thread that had written
     * every event and closed the sink meanwhile made that flush fail ("Response is closed"), and the server then
     * dropped the connection after the headers or the first events: on Tomcat about once in a thousand such follows,
     * more under load. A connection now writes only once the dispatch has ended.
     */
    @Test
    void threeThousandFollowersOfAnEndedStreamOnKeptAliveConnectionsEachGetTheWholeStream() throws Exception {
        User user = new User();
        String id = startChat(user, "ended " + UUID.randomUUID(), "paced:5:1");
        List<SseClient.Event> whole = allEvents(user, id);
        String cookie = user.cookieHeader();
        String path = uri("api/streams/" + id + "/events").getRawPath();
        User other = new User();
        String live = startChat(other, "cut again and again " + UUID.randomUUID(), "paced:4000:5");
        String otherCookie = other.cookieHeader();
        String livePath = uri("api/streams/" + live + "/events").getRawPath();
        java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            for (int c = 0; c < 2; c++) {
                threads.submit(() -> {
                    while (!over.get()) {
                        try (Socket tab = new Socket(base.getHost(), port())) {
                            tab.setSoTimeout(5000);
                            tab.getOutputStream().write(eventsRequest(livePath + "?clientId=cut-" + UUID.randomUUID(),
                                    otherCookie));
                            tab.getInputStream().read(new byte[512]); // the headers, perhaps an event (or a 429)
                            tab.setSoLinger(true, 0); // then a reset, as when a tab dies
                        } catch (IOException e) {
                            // refused or reset first: the next one
                        }
                    }
                    return null;
                });
            }
            List<java.util.concurrent.Future<?>> followers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int connection = w;
                followers.add(threads.submit(() -> {
                    try (KeepAliveClient http = new KeepAliveClient(base.getHost(), port(), 10_000)) {
                        for (int i = 0; i < 750; i++) {
                            String what = "follow " + (i + 1) + " on connection " + (connection + 1);
                            KeepAliveClient.Response r;
                            try {
                                r = http.get(path, Map.of("Accept", "text/event-stream", "Cookie", cookie,
                                        "X-Sluice-Client-Id", "follower-" + connection + "-" + i));
                            } catch (IOException e) {
                                throw new AssertionError(what + ": " + e.getMessage(), e);
                            }
                            assertEquals(200, r.status(), what + ": " + r.body());
                            assertEquals(whole, SseClient.withoutPings(SseClient.parse(r.body())), what);
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> follower : followers) {
                try {
                    follower.get(180, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
                }
            }
        } finally {
            over.set(true);
            threads.shutdown();
            assertTrue(threads.awaitTermination(30, TimeUnit.SECONDS), "the cut tabs stopped");
            try {
                send(other, "POST", "api/streams/" + live + "/stop", null, null);
            } catch (IOException e) {
                // cleanup only (the stream ends by itself after 20 s): never hide what the test found
            }
        }
    }

    // --- 2. resume by character offset

    @Test
    void fiveCutsResumedWithCharacterOffsetsThroughChatResumeRebuildTheExactText() throws Exception {
        User user = new User();
        String marker = "offsets " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:120:40");
        String expected = FakeUpstream.pacedText(120);
        StringBuilder text = new StringBuilder();

        // the page's first connection, then four resumes, each cut after a few events, then one to the end
        SseClient first = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> got = first.takeThenDisconnect(5, 20);
        assertNoTerminal(got, "the stream ended before the first cut");
        text.append(SseClient.deltas(got));
        int[] reads = {8, 4, 10, 6};
        for (int round = 0; round < reads.length; round++) {
            Thread.sleep(150);
            int offset = text.length();
            if (round % 2 == 1 && offset > 0) {
                offset--; // the client may ask from anywhere: the first delta is then a partial one
                text.setLength(offset);
            }
            SseClient resumed = resume(user, id, offset, "tab-1");
            got = resumed.takeThenDisconnect(reads[round], 20);
            assertNoTerminal(got, "the stream ended before the last cut");
            text.append(SseClient.deltas(got));
            assertTrue(expected.startsWith(text.toString()),
                    "after resuming from " + offset + ": text so far is a prefix of the answer: " + text);
        }
        Thread.sleep(150);
        SseClient resumed = resume(user, id, text.length(), "tab-1");
        List<SseClient.Event> rest = SseClient.withoutPings(resumed.untilTerminal(30));
        text.append(SseClient.deltas(rest));
        assertTrue(resumed.awaitEnd(5), "the response ends after the terminal event");

        SseClient.Event done = SseClient.last(rest);
        assertEquals("done", done.name(), () -> "terminal event " + done);
        assertEquals(expected, text.toString());
        JsonObject state = state(user, id);
        assertEquals("completed", state.getString("status"));
        assertEquals(expected, state.getString("content"));
        JsonObject saved = savedAnswer(user, state.getString("conversationId"));
        assertEquals(done.data().getString("messageId"), saved.getString("id"));
        assertEquals(expected, saved.getString("content"));
        assertEquals("completed", saved.getString("status"));
    }

    // --- adaptive delivery and the liveness signal (API.md section 13; README, "Extensions"; issue 20)

    @Test
    void aSlowNetworksCoarserRateGivesTheSameTextInFewerEventsUnderTheStreamsIds() throws Exception {
        User user = new User();
        String id = startChat(user, "rates " + UUID.randomUUID(), "paced:60:20");
        String expected = FakeUpstream.pacedText(60);
        SseClient everyDelta = follow(user, id, "tab-1", null, false);
        SseClient slow = SseClient.get(user.http, uri("api/streams/" + id + "/events?clientId=tab-2&flushMs=500"
                + "&minChunk=1024"), Map.of());
        assertEquals(200, slow.status, slow.errorBody);
        SseClient cut = SseClient.get(user.http, uri("api/streams/" + id + "/events?clientId=tab-3&flushMs=200"),
                Map.of());
        List<SseClient.Event> atOnce = SseClient.withoutPings(everyDelta.untilTerminal(30));
        List<SseClient.Event> grouped = SseClient.withoutPings(slow.untilTerminal(30));
        assertEquals(expected, SseClient.deltas(atOnce));
        assertEquals(expected, SseClient.deltas(grouped));
        long messages = grouped.stream().filter(e -> e.name().equals("message")).count();
        long every = atOnce.stream().filter(e -> e.name().equals("message")).count();
        assertTrue(messages * 3 <= every, "about 1.2 s of answer in 500 ms groups: " + messages
                + " events, against " + every + " at the stream's own rate");
        assertEquals(SseClient.last(atOnce).id(), SseClient.last(grouped).id(), "the same ids: the stream's");

        // a client cut at a grouped event resumes by its id, at another rate, with nothing lost or repeated
        List<SseClient.Event> first = cut.takeThenDisconnect(2, 20);
        SseClient resumed = follow(user, id, "tab-3", first.get(1).id(), false);
        String rest = SseClient.deltas(SseClient.withoutPings(resumed.untilTerminal(30)));
        assertEquals(expected, SseClient.deltas(first) + rest);

        for (String bad : List.of("flushMs=20", "flushMs=2000", "flushMs=fast", "minChunk=-1", "minChunk=5000")) {
            HttpResponse<String> refused = send(user, "GET", "api/streams/" + id + "/events?" + bad, null, null);
            assertEquals(400, refused.statusCode(), bad + ": " + refused.body());
            assertTrue(refused.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
            refused = send(user, "POST", "api/chat/resume?" + bad, "application/json",
                    "{\"streamId\":\"" + id + "\",\"offset\":0}");
            assertEquals(400, refused.statusCode(), bad + ": " + refused.body());
        }
        int conversations = getArray(user, "api/conversations").size();
        HttpResponse<String> refused = send(user, "POST", "api/chat/stream?flushMs=5", "application/json",
                "{\"message\":\"not started\",\"model\":\"paced:3:10\"}");
        assertEquals(400, refused.statusCode(), refused.body());
        assertEquals(conversations, getArray(user, "api/conversations").size(), "a refused rate starts nothing");
    }

    @Test
    void whileGeneratingAConnectionIsNeverSilentForMuchMoreThanASecond() throws Exception {
        User user = new User();
        // a chunk every 2.5 s, longer than the tests' 2 s heartbeat: only the liveness ping fills the gaps
        String id = startChat(user, "liveness " + UUID.randomUUID(), "paced:3:2500");
        SseClient sse = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> all = sse.untilTerminal(30);
        assertEquals(FakeUpstream.pacedText(3), SseClient.deltas(all));
        long pings = all.stream().filter(e -> e.name().equals("ping")).count();
        assertTrue(pings >= 4, "pings while the upstream is silent: " + pings);
        long gap = sse.longestGapMillis();
        assertTrue(gap < 1700, "an event at least every ~1 s while generating (SLUICE_LIVENESS_MS 1000, checked "
                + "every 250 ms), never only the 2 s heartbeat: longest gap " + gap + " ms");
    }

    // --- 3. polling fallback

    @Test
    void pollingAloneDeliversEveryEventOnceAndReturnsAsSoonAsThereIsNews() throws Exception {
        User user = new User();
        String marker = "polling " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:120:40");
        List<SseClient.Event> polled = new ArrayList<>();
        long after = 0;
        boolean terminal = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int polls = 0;
        while (!terminal) {
            assertTrue(System.nanoTime() < deadline, "no terminal event by polling within 30 s; got " + polled.size());
            long started = System.nanoTime();
            JsonObject page = getJson(user, "api/streams/" + id + "?after=" + after + "&wait=5");
            long millis = millisSince(started);
            polls++;
            assertTrue(page.containsKey("status"), "a poll answers the status: " + page);
            JsonArray events = page.getJsonArray("events");
            if (polls == 1) {
                assertFalse(events.isEmpty(), "the first poll finds the stream event");
                assertTrue(millis < 2500, "a poll with news returns at once, took " + millis + " ms");
            }
            assertTrue(millis < 5000 + 2000, "a poll waits at most wait=5 s, took " + millis + " ms");
            for (JsonValue v : events) {
                JsonObject e = v.asJsonObject();
                long eventId = e.getJsonNumber("id").longValueExact();
                assertTrue(eventId > after, "only events after " + after + ", got " + eventId);
                after = eventId;
                SseClient.Event event = new SseClient.Event(Long.toString(eventId), e.getString("event"),
                        e.getJsonObject("data"));
                polled.add(event);
                terminal |= isTerminal(event);
            }
            if (!events.isEmpty()) {
                assertTrue(page.getJsonNumber("lastEventId").longValueExact() >= after, "lastEventId: " + page);
            }
        }
        assertTrue(polls > 2, "the answer came in over several polls (" + polls + ")");

        long started = System.nanoTime();
        JsonObject quiet = getJson(user, "api/streams/" + id + "?after=" + after + "&wait=1");
        assertTrue(quiet.getJsonArray("events").isEmpty(), "nothing after the terminal event: " + quiet);
        assertEquals("completed", quiet.getString("status"));
        assertTrue(millisSince(started) < 1000 + 2000, "wait=1 is honoured");

        assertExactlyTheStream(user, id, polled);
        assertCompleted(user, id, polled, FakeUpstream.pacedText(120));
    }

    // --- 4. several tabs; the same tab again

    @Test
    void secondTabWithAnotherClientIdReceivesTheSameEvents() throws Exception {
        User user = new User();
        String id = startChat(user, "two tabs " + UUID.randomUUID(), "paced:80:40");
        SseClient a = follow(user, id, "tab-a", null, false);
        List<SseClient.Event> headOfA = a.take(3, 20);
        SseClient b = follow(user, id, "tab-b", null, true);
        List<SseClient.Event> eventsOfA = new ArrayList<>(headOfA);
        eventsOfA.addAll(SseClient.withoutPings(a.untilTerminal(30)));
        List<SseClient.Event> eventsOfB = SseClient.withoutPings(b.untilTerminal(30));
        assertTrue(a.awaitEnd(5) && b.awaitEnd(5), "both responses end after the terminal event");

        assertEquals(eventsOfA, eventsOfB, "both tabs receive the same events");
        assertExactlyTheStream(user, id, eventsOfA);
        assertCompleted(user, id, eventsOfA, FakeUpstream.pacedText(80));
    }

    @Test
    void secondConnectionOfTheSameClientReplacesTheFirst() throws Exception {
        User user = new User();
        String id = startChat(user, "same tab " + UUID.randomUUID(), "paced:100:40");
        SseClient first = follow(user, id, "tab-x", null, false);
        List<SseClient.Event> seen = new ArrayList<>(first.take(5, 20));
        SseClient second = follow(user, id, "tab-x", SseClient.last(seen).id(), false);

        assertTrue(first.awaitEnd(5), "the first connection of tab-x ends when tab-x connects again");
        List<SseClient.Event> leftOnFirst = first.drained();
        assertTrue(leftOnFirst.stream().noneMatch(StreamsIT::isTerminal),
                "the replaced connection ends without a terminal event: " + leftOnFirst);

        seen.addAll(SseClient.withoutPings(second.untilTerminal(30)));
        assertTrue(second.awaitEnd(5), "the response ends after the terminal event");
        assertExactlyTheStream(user, id, seen);
        assertCompleted(user, id, seen, FakeUpstream.pacedText(100));
    }

    // --- 5. stop

    @Test
    void stopFromAThirdConnectionStopsEveryFollowerAndTheUpstreamWithinOneSecond() throws Exception {
        User user = new User();
        String marker = "stop " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:300:40");
        SseClient a = follow(user, id, "tab-a", null, false);
        SseClient b = follow(user, id, "tab-b", null, false);
        List<SseClient.Event> eventsOfA = new ArrayList<>(a.take(6, 20));
        List<SseClient.Event> eventsOfB = new ArrayList<>(b.take(6, 20));
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);

        JsonArray active = getArray(user, "api/streams?status=active");
        JsonObject listed = find(active, id);
        assertNotNull(listed, "the running stream is listed as active: " + active);
        assertEquals("chat", listed.getString("type"));
        assertFalse(listed.containsKey("content"), "the active list leaves the content out");

        long stopAt = System.nanoTime();
        HttpResponse<String> stop = send(user, "POST", "api/streams/" + id + "/stop", null, null);
        assertEquals(202, stop.statusCode(), stop.body());
        assertEquals(id, SseClient.json(stop.body()).getString("id"));

        eventsOfA.addAll(SseClient.withoutPings(a.untilTerminal(5)));
        long millisA = millisSince(stopAt);
        eventsOfB.addAll(SseClient.withoutPings(b.untilTerminal(5)));
        long millisB = millisSince(stopAt);
        for (List<SseClient.Event> events : List.of(eventsOfA, eventsOfB)) {
            SseClient.Event stopped = SseClient.last(events);
            assertEquals("stopped", stopped.name(), () -> "terminal event " + stopped);
            assertEquals("stopped", stopped.data().getString("status"));
            assertEquals("user", stopped.data().getString("reason"));
            assertNotNull(stopped.data().getString("messageId"));
        }
        assertTrue(millisA <= ONE_SECOND_MS, "tab-a got stopped " + millisA + " ms after the stop");
        assertTrue(millisB <= ONE_SECOND_MS, "tab-b got stopped " + millisB + " ms after the stop");
        assertEquals(eventsOfA, eventsOfB, "both followers saw the same events");
        assertTrue(a.awaitEnd(5) && b.awaitEnd(5), "both responses end after stopped");

        long closedMillis = call.closedMillisAfter(stopAt, 5);
        assertTrue(closedMillis <= ONE_SECOND_MS, "upstream closed " + closedMillis + " ms after the stop");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");

        String text = SseClient.deltas(eventsOfA);
        JsonObject state = awaitStatus(user, id, "stopped");
        assertEquals(text, state.getString("content"));
        JsonObject saved = savedAnswer(user, state.getString("conversationId"));
        assertEquals("stopped", saved.getString("status"));
        assertEquals(text, saved.getString("content"));
        assertEquals(SseClient.last(eventsOfA).data().getString("messageId"), saved.getString("id"));
        assertTrue(FakeUpstream.pacedText(300).startsWith(text) && text.length() < FakeUpstream.pacedText(300).length(),
                "a proper prefix of the answer: " + text);
        assertEquals(null, find(getArray(user, "api/streams?status=active"), id), "no longer active");
    }

    // --- 6. beacon abort

    /** The three bodies navigator.sendBeacon can send. */
    enum Beacon {
        TEXT_PLAIN_JSON("text/plain;charset=UTF-8"),
        APPLICATION_JSON("application/json"),
        FORM_FIELDS("application/x-www-form-urlencoded");

        final String contentType;

        Beacon(String contentType) {
            this.contentType = contentType;
        }

        String body(String streamId, String reason) {
            if (this == FORM_FIELDS) {
                return "streamId=" + URLEncoder.encode(streamId, StandardCharsets.UTF_8) + "&reason="
                        + URLEncoder.encode(reason, StandardCharsets.UTF_8);
            }
            return Json.createObjectBuilder().add("streamId", streamId).add("reason", reason).build().toString();
        }
    }

    @TestFactory
    Stream<DynamicTest> beaconUnloadWithoutReconnectStopsTheStreamAfterTheUnloadGrace() {
        return Stream.of(Beacon.values()).map(beacon -> DynamicTest.dynamicTest(beacon.name(),
                () -> unloadWithoutReconnect(beacon)));
    }

    private void unloadWithoutReconnect(Beacon beacon) throws Exception {
        User user = new User();
        String marker = "unload " + beacon + " " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:250:40");
        SseClient tab = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> seen = tab.take(6, 20);
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);

        long beaconAt = System.nanoTime();
        HttpResponse<String> answer = send(user, "POST", "api/chat/abort", beacon.contentType, beacon.body(id, "unload"));
        assertEquals(204, answer.statusCode(), answer.body());
        tab.disconnect(); // the tab is gone

        long closedMillis = call.closedMillisAfter(beaconAt, 10);
        assertTrue(closedMillis >= UNLOAD_GRACE_MS - 500,
                "the unload grace is honoured: upstream closed " + closedMillis + " ms after the beacon");
        assertTrue(closedMillis <= UNLOAD_GRACE_MS + 1500,
                "aborted when the unload grace ran out: upstream closed " + closedMillis + " ms after the beacon");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");

        JsonObject state = awaitStatus(user, id, "stopped");
        assertEquals("unload", state.getString("endReason"), state::toString);
        JsonObject saved = savedAnswer(user, state.getString("conversationId"));
        assertEquals("stopped", saved.getString("status"));
        assertEquals("unload", saved.getString("endReason"));
        assertTrue(saved.getString("content").startsWith(SseClient.deltas(seen)), "the saved text begins with what was seen");
        assertTrue(saved.getString("content").matches("(w\\d+ )+"), "whole chunks: " + saved.getString("content"));
        assertEquals(state.getString("content"), saved.getString("content"));

        // a late follower finds out how it ended
        SseClient late = follow(user, id, "audit", SseClient.last(seen).id(), false);
        SseClient.Event stopped = SseClient.last(SseClient.withoutPings(late.untilTerminal(10)));
        assertEquals("stopped", stopped.name(), () -> "terminal event " + stopped);
        assertEquals("unload", stopped.data().getString("reason"));
        assertEquals(saved.getString("id"), stopped.data().getString("messageId"));
        assertTrue(late.awaitEnd(5), "a follower of an ended stream gets the rest, then the response ends");
    }

    @TestFactory
    Stream<DynamicTest> beaconUnloadThenReconnectWithinTheGraceCompletes() {
        return Stream.of(Beacon.values()).map(beacon -> DynamicTest.dynamicTest(beacon.name(),
                () -> unloadThenReload(beacon)));
    }

    private void unloadThenReload(Beacon beacon) throws Exception {
        User user = new User();
        String marker = "reload " + beacon + " " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:150:40");
        SseClient tab = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> seen = new ArrayList<>(tab.take(6, 20));

        long beaconAt = System.nanoTime();
        HttpResponse<String> answer = send(user, "POST", "api/chat/abort", beacon.contentType, beacon.body(id, "unload"));
        assertEquals(204, answer.statusCode(), answer.body());
        tab.disconnect();
        Thread.sleep(500); // the page reloads
        SseClient reloaded = follow(user, id, "tab-1", SseClient.last(seen).id(), false);
        seen.addAll(SseClient.withoutPings(reloaded.untilTerminal(30)));
        long doneMillis = millisSince(beaconAt);
        assertTrue(doneMillis > UNLOAD_GRACE_MS, "the stream outlived the unload grace (done after " + doneMillis + " ms)");

        assertExactlyTheStream(user, id, seen);
        assertCompleted(user, id, seen, FakeUpstream.pacedText(150));
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        call.finished.get(5, TimeUnit.SECONDS);
        assertFalse(call.closedByClient.isDone(), "the upstream ran to its end");
    }

    @Test
    void beaconWithAnotherReasonAbortsAtOnce() throws Exception {
        User user = new User();
        String marker = "close " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:250:40");
        SseClient tab = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> seen = new ArrayList<>(tab.take(6, 20));
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);

        long beaconAt = System.nanoTime();
        HttpResponse<String> answer = send(user, "POST", "api/chat/abort", "application/json",
                Beacon.APPLICATION_JSON.body(id, "closed"));
        assertEquals(204, answer.statusCode(), answer.body());
        seen.addAll(SseClient.withoutPings(tab.untilTerminal(5)));
        long stoppedMillis = millisSince(beaconAt);
        SseClient.Event stopped = SseClient.last(seen);
        assertEquals("stopped", stopped.name(), () -> "terminal event " + stopped);
        assertEquals("stopped", stopped.data().getString("status"));
        assertTrue(stoppedMillis <= ONE_SECOND_MS, "stopped " + stoppedMillis + " ms after the beacon");
        long closedMillis = call.closedMillisAfter(beaconAt, 5);
        assertTrue(closedMillis <= ONE_SECOND_MS, "upstream closed " + closedMillis + " ms after the beacon");

        JsonObject state = awaitStatus(user, id, "stopped");
        JsonObject saved = savedAnswer(user, state.getString("conversationId"));
        assertEquals("stopped", saved.getString("status"));
        assertEquals(SseClient.deltas(seen), saved.getString("content"));
    }

    // --- 7. resume grace

    @Test
    void whenEveryFollowerIsGonePastTheResumeGraceTheUpstreamIsCancelledAndThePartialTextSaved() throws Exception {
        User user = new User();
        String marker = "gone " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:250:40");
        SseClient tab = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> seen = tab.take(8, 20);
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        long leftAt = System.nanoTime();
        tab.disconnect();

        long closedMillis = call.closedMillisAfter(leftAt, 15);
        assertTrue(closedMillis >= RESUME_GRACE_MS - 500,
                "the resume grace is honoured: upstream closed " + closedMillis + " ms after the client left");
        // the gateway notices the drop at its next write (at the latest the next heartbeat), then waits the grace
        assertTrue(closedMillis <= RESUME_GRACE_MS + 2000 + 1000,
                "upstream closed " + closedMillis + " ms after the client left");
        assertFalse(call.finished.isDone(), "the upstream was cut off, not run to its end");

        JsonObject state = awaitStatus(user, id, "stopped");
        assertEquals("client_disconnected", state.getString("endReason"), state::toString);
        JsonObject saved = savedAnswer(user, state.getString("conversationId"));
        assertEquals("partial", saved.getString("status"));
        assertEquals("client_disconnected", saved.getString("endReason"));
        String content = saved.getString("content");
        assertTrue(content.startsWith(SseClient.deltas(seen)), "the saved text begins with what was seen");
        assertTrue(content.matches("(w\\d+ )+"), "whole chunks: " + content);
        assertTrue(content.length() < FakeUpstream.pacedText(250).length(), "cut off: " + content.length());
    }

    @Test
    void reconnectWithinTheResumeGraceKeepsTheStreamAlive() throws Exception {
        User user = new User();
        String marker = "back " + UUID.randomUUID();
        String id = startChat(user, marker, "paced:150:40");
        SseClient tab = follow(user, id, "tab-1", null, false);
        List<SseClient.Event> seen = new ArrayList<>(tab.takeThenDisconnect(6, 20));
        Thread.sleep(1500); // half the grace
        SseClient again = follow(user, id, "tab-1", SseClient.last(seen).id(), false);
        seen.addAll(SseClient.withoutPings(again.untilTerminal(30)));

        assertExactlyTheStream(user, id, seen);
        assertCompleted(user, id, seen, FakeUpstream.pacedText(150));
        FakeUpstream.Call call = upstream.call(marker).get(5, TimeUnit.SECONDS);
        call.finished.get(5, TimeUnit.SECONDS);
        assertFalse(call.closedByClient.isDone(), "the upstream ran to its end");
    }

    // --- 8. stalled reader

    @Test
    void stalledReaderIsClosedAndForgottenWhileTheGenerationAndAnotherFollowerGoOn() throws Exception {
        User user = new User();
        int baseline = settledConnections(user); // connections of earlier tests may still be winding down
        String marker = "stalled " + UUID.randomUUID();
        // the fake waits 1 s, sends 20 MB as fast as it can, then a slow tail for 15 s
        String id = startChat(user, marker, "flood"); // not "fast": that is a type name (API.md section 10)
        SseClient reader = follow(user, id, "reader", null, false);
        try (Socket stalled = new Socket()) {
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress(base.getHost(), port()), 5000);
            stalled.setSoTimeout(10_000);
            OutputStream out = stalled.getOutputStream();
            out.write(eventsRequest(base.getPath() + "api/streams/" + id + "/events?clientId=stalled",
                    user.cookieHeader()));
            out.flush();
            InputStream in = stalled.getInputStream();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200"), "the stalled reader is accepted: " + head);
            // from here on, the stalled reader reads nothing until the end of the test

            int withBoth = awaitConnections(user, n -> n >= baseline + 2, 5);
            assertTrue(withBoth >= baseline + 2, "both connections are counted: " + withBoth + ", before " + baseline);

            List<SseClient.Event> events = new ArrayList<>();
            SseClient.Event event;
            do {
                event = reader.next(10);
                events.add(event);
            } while (!event.name().equals("message"));
            long flowing = System.nanoTime(); // the 20 MB start now; the stalled reader's writes block once ~13 MB are queued
            // a timeline for the failure messages: ms, connections, events the reader received, reader ended
            List<String> timeline = java.util.Collections.synchronizedList(new ArrayList<>());
            var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> {
                try {
                    timeline.add(millisSince(flowing) + "ms:" + connections(user) + "c/" + reader.received.get() + "e"
                            + (reader.ended().isDone() ? "/ended" : ""));
                } catch (Exception e) {
                    timeline.add(e.toString());
                }
            }, 0, 500, TimeUnit.MILLISECONDS);
            try {
                // the stalled connection is closed and forgotten within a few heartbeats, while the reader still follows
                int withReader = awaitConnections(user, n -> n <= baseline + 1, 20);
                long forgottenMillis = millisSince(flowing);
                assertTrue(withReader <= baseline + 1, "the stalled connection is still counted 20 s after the data "
                        + "began: " + withReader + " connections, " + baseline + " before the test; " + timeline);
                assertFalse(reader.ended().isDone(), "the stalled connection was not forgotten while the stream ran:"
                        + " the count dropped only when the other follower's response ended, " + forgottenMillis
                        + " ms after the data began; timeline (ms:connections/events of the other follower): "
                        + timeline);
                // ~13 MB of kernel buffers and write queue fill first (seconds), then 2 heartbeats of 2 s
                assertTrue(forgottenMillis <= 15_000,
                        "forgotten " + forgottenMillis + " ms after the data began (heartbeat 2 s): " + timeline);

                // the generation and the other follower go on to the end
                events.addAll(SseClient.withoutPings(reader.untilTerminal(60)));
            } finally {
                sampler.shutdownNow();
            }
            SseClient.Event done = SseClient.last(events);
            assertEquals("done", done.name(), () -> "terminal event " + done);
            assertEquals(FakeUpstream.fastReasoning(), SseClient.reasonings(events), "the other follower got all the reasoning");
            assertEquals(FakeUpstream.fastContent(), SseClient.deltas(events), "the other follower got the whole answer");
            assertIncreasingIds(events);
            reader.awaitEnd(5);
            JsonObject state = state(user, id);
            assertEquals("completed", state.getString("status"));
            assertEquals(FakeUpstream.fastContent(), state.getString("content"));
            assertRawRecordTruncatedAtTheDefaultBound(user, state);
            assertTrue(awaitConnections(user, n -> n <= baseline, 10) <= baseline, "every connection is gone");

            // the stalled reader's response was ended by the server, before the stream's end
            stalled.setSoTimeout(5000);
            StalledRead rest = readRest(in);
            assertTrue(rest.closed() || rest.lastChunk(),
                    "the server left the stalled response open: no end after " + rest.bytes() + " bytes; tail: "
                            + rest.tail());
            assertFalse(rest.sawDone(), "the stalled reader was cut off, yet it received done (" + rest.bytes()
                    + " bytes): it was not forgotten, only served late");
        }
    }

    /**
     * The 20 MB answer's raw record (API.md section 13) holds the first upstream chunks up to the deployed server's
     * {@code SLUICE_RAW_MAX_BYTES} (its default, 1 MiB: each chunk counts its UTF-8 bytes plus 5), exactly as sent, and
     * says it was truncated; the {@code [DONE]} that came after still has its time.
     */
    private void assertRawRecordTruncatedAtTheDefaultBound(User user, JsonObject state) throws Exception {
        JsonObject response = getJson(user, "api/conversations/" + state.getString("conversationId") + "/messages/"
                + state.getString("messageId") + "/raw").getJsonObject("response");
        long bound = 1024 * 1024;
        List<String> expected = new ArrayList<>();
        long counted = 0;
        for (int i = 0; i < FakeUpstream.FAST_CHUNKS; i++) {
            String event = FakeUpstream.reasoningChunk(FakeUpstream.fastPiece('r', i));
            String data = event.substring("data: ".length(), event.length() - 2);
            counted += data.getBytes(StandardCharsets.UTF_8).length + 5;
            if (counted > bound) {
                break;
            }
            expected.add(data);
        }
        JsonArray chunks = response.getJsonArray("chunks");
        assertEquals(expected.size(), chunks.size(), "the chunks that fit in 1 MiB");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(SseClient.json(expected.get(i)), chunks.getJsonObject(i), "chunk " + i);
        }
        assertEquals(chunks.size(), response.getJsonArray("receivedAt").size());
        assertTrue(response.getBoolean("truncated"));
        assertEquals(200, response.getInt("status"));
        assertTrue(response.getInt("doneAt") >= response.getJsonArray("receivedAt").getInt(chunks.size() - 1));
    }

    /** What a stalled reader finds once it reads again. */
    private record StalledRead(long bytes, boolean closed, boolean lastChunk, boolean sawDone, String tail) {
    }

    /** Reads until the server closes the socket, or until 5 s of silence; at most 30 s. */
    private static StalledRead readRest(InputStream in) {
        long bytes = 0;
        boolean closed = false;
        boolean sawDone = false;
        String window = "";
        byte[] buffer = new byte[65536];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try {
            int n;
            while (System.nanoTime() < deadline) {
                n = in.read(buffer);
                if (n < 0) {
                    closed = true;
                    break;
                }
                bytes += n;
                window = window + new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                sawDone |= window.contains("event: done") || window.contains("event:done");
                window = window.substring(Math.max(0, window.length() - 2048));
            }
        } catch (SocketTimeoutException e) {
            // silence: the socket is still open
        } catch (IOException e) {
            closed = true; // reset by the server
        }
        // HTTP/1.1 keep-alive: a response ended with its last chunk is closed even if the socket stays open
        boolean lastChunk = window.endsWith("\r\n0\r\n\r\n");
        String tail = window.substring(Math.max(0, window.length() - 300)).replace("\r", "\\r").replace("\n", "\\n");
        return new StalledRead(bytes, closed, lastChunk, sawDone, tail);
    }

    // --- 9. typed streams

    @Test
    void fourTypedStreamsOfOneUserRunAtOnceWithoutMixingAndTheTitleStreamTitlesTheConversation()
            throws Exception {
        User user = new User();
        String question = "How do rivers shape valleys? " + UUID.randomUUID().toString().substring(0, 8);
        Map<String, JsonObject> bodies = new LinkedHashMap<>();
        bodies.put("chat", Json.createObjectBuilder().add("type", "chat").add("message", question)
                .add("model", "simulated").build());
        bodies.put("topic_title", Json.createObjectBuilder().add("type", "topic_title")
                .add("input", "Notes about sourdough starters, hydration levels and baking schedules")
                .add("model", "simulated").build());
        bodies.put("prompt_optimization", Json.createObjectBuilder().add("type", "prompt_optimization")
                .add("input", "write something about cats maybe funny").add("model", "simulated").build());
        bodies.put("system_prompt", Json.createObjectBuilder().add("type", "system_prompt")
                .add("input", "An assistant that reviews Java pull requests for concurrency bugs")
                .add("metadata", Json.createObjectBuilder().add("name", "Concurrency Reviewer"))
                .add("model", "simulated").build());

        Map<String, String> ids = new LinkedHashMap<>();
        Map<String, SseClient> followers = new LinkedHashMap<>();
        for (var entry : bodies.entrySet()) {
            JsonObject created = create(user, entry.getValue());
            assertEquals(entry.getKey(), created.getString("type"));
            ids.put(entry.getKey(), created.getString("streamId"));
        }
        for (var entry : ids.entrySet()) {
            followers.put(entry.getKey(), follow(user, entry.getValue(), "tab-1", null, false));
        }
        assertEquals(4, new HashSet<>(ids.values()).size(), "four distinct stream ids");

        Map<String, String> contents = new LinkedHashMap<>();
        for (var entry : followers.entrySet()) {
            String type = entry.getKey();
            String id = ids.get(type);
            List<SseClient.Event> events = SseClient.withoutPings(entry.getValue().untilTerminal(30));
            SseClient.Event first = events.get(0);
            assertEquals("stream", first.name(), type);
            assertEquals(id, first.data().getString("streamId"), type);
            assertEquals(type, first.data().getString("type"), type);
            SseClient.Event done = SseClient.last(events);
            assertEquals("done", done.name(), () -> type + ": terminal event " + done);
            assertIncreasingIds(events);
            String text = SseClient.deltas(events);
            JsonObject state = state(user, id);
            assertEquals(type, state.getString("type"));
            assertEquals("completed", state.getString("status"), type);
            assertEquals(text, state.getString("content"), type);
            contents.put(type, text);
        }
        assertEquals(4, new HashSet<>(contents.values()).size(), "four different outputs: " + contents);

        assertTrue(contents.get("chat").length() > 200, "a chat answer: " + contents.get("chat"));
        String topicTitle = contents.get("topic_title").strip();
        assertFalse(topicTitle.isEmpty(), "a topic title");
        assertTrue(topicTitle.length() <= 100 && !topicTitle.contains("\n"), "a short title: " + topicTitle);
        String optimized = contents.get("prompt_optimization").strip();
        assertFalse(optimized.isEmpty(), "an optimized prompt");
        assertNotEquals("write something about cats maybe funny", optimized, "the prompt was rewritten");
        assertTrue(contents.get("system_prompt").contains("You are"),
                "a system prompt in the second person: " + contents.get("system_prompt"));

        // the chat began a new conversation: a conversation_title stream titles it after the first answer
        String conversationId = state(user, ids.get("chat")).getString("conversationId");
        String titleStream = null;
        String title = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (JsonValue v : getArray(user, "api/streams?status=active")) {
                JsonObject s = v.asJsonObject();
                if ("conversation_title".equals(s.getString("type", ""))
                        && conversationId.equals(s.getString("relatedId", null))) {
                    titleStream = s.getString("id");
                }
            }
            String current = getJson(user, "api/conversations/" + conversationId).getString("title", null);
            if (current != null && !current.equals(question)) {
                title = current;
                break;
            }
            Thread.sleep(200);
        }
        assertNotNull(title, "the conversation was not retitled within 20 s (its title is still the question)");
        assertFalse(title.isBlank());
        assertTrue(title.length() <= 100 && !title.contains("\n"), "a short title: " + title);
        if (titleStream != null) {
            JsonObject titleState = state(user, titleStream);
            assertEquals("conversation_title", titleState.getString("type"));
            assertEquals(conversationId, titleState.getString("relatedId"));
            String output = titleState.getString("content").strip();
            assertTrue(output.equals(title) || output.replaceAll("^[\"'\u201c]+|[\"'\u201d.]+$", "").equals(title),
                    "the title is the title stream's output: " + output + " vs " + title);
        }
    }

    // --- 10. ownership

    @Test
    void anotherUsersStreamIsNotFoundEverywhereAndStreamIdsAreUnguessable() throws Exception {
        User alice = new User();
        User bob = new User();
        String id = startChat(alice, "mine " + UUID.randomUUID(), "paced:100:40");
        SseClient aliceTab = follow(alice, id, "tab-1", null, false);

        for (String streamId : List.of(id, UUID.randomUUID().toString())) {
            User who = streamId.equals(id) ? bob : alice;
            String label = streamId.equals(id) ? "bob on alice's stream" : "unknown id";
            assertProblem(send(who, "GET", "api/streams/" + streamId, null, null), 404, label + ": state");
            assertProblem(send(who, "GET", "api/streams/" + streamId + "?after=0&wait=1", null, null), 404,
                    label + ": polling");
            SseClient events = SseClient.get(who.http, uri("api/streams/" + streamId + "/events?clientId=x"), Map.of());
            assertEquals(404, events.status, label + ": events: " + events.errorBody);
            assertTrue(events.headers.firstValue("Content-Type").orElse("").startsWith("application/problem+json"),
                    label + ": events answer problem+json");
            assertProblem(send(who, "POST", "api/chat/resume", "application/json",
                    Json.createObjectBuilder().add("streamId", streamId).add("offset", 0).build().toString()), 404,
                    label + ": resume");
            assertProblem(send(who, "POST", "api/streams/" + streamId + "/stop", null, null), 404, label + ": stop");
            for (Beacon beacon : Beacon.values()) {
                assertProblem(send(who, "POST", "api/chat/abort", beacon.contentType, beacon.body(streamId, "closed")),
                        404, label + ": abort " + beacon);
                assertProblem(send(who, "POST", "api/chat/abort", beacon.contentType, beacon.body(streamId, "unload")),
                        404, label + ": unload " + beacon);
            }
        }
        assertProblem(send(alice, "GET", "api/streams/not-a-stream", null, null), 404, "malformed id");
        assertEquals(null, find(getArray(bob, "api/streams?status=active"), id), "bob's list leaves alice's out");
        assertNotNull(find(getArray(alice, "api/streams?status=active"), id), "alice's list has it");

        // nothing bob did touched alice's stream
        List<SseClient.Event> events = SseClient.withoutPings(aliceTab.untilTerminal(30));
        assertEquals("done", SseClient.last(events).name(), () -> "terminal event " + SseClient.last(events));

        String other = create(alice, Json.createObjectBuilder().add("type", "topic_title").add("input", "gardening")
                .add("model", "simulated").build()).getString("streamId");
        for (String streamId : List.of(id, other)) {
            assertEquals(36, streamId.length(), streamId);
            assertEquals(streamId, UUID.fromString(streamId).toString(), "a UUID: " + streamId);
        }
        assertNotEquals(id, other);
    }

    // --- 11. connection cap

    @Test
    void connectionsPerOwnerAreCapped() throws Exception {
        User user = new User();
        String id = startChat(user, "cap " + UUID.randomUUID(), "paced:400:40");
        List<SseClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                SseClient tab = follow(user, id, "tab-" + i, null, false);
                tab.next(10);
                open.add(tab);
            }
            SseClient refused = SseClient.get(user.http, uri("api/streams/" + id + "/events?clientId=one-too-many"),
                    Map.of());
            assertEquals(429, refused.status, "connection " + (MAX_CONNECTIONS + 1) + ": " + refused.errorBody);
            assertTrue(refused.headers.firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
            JsonObject problem = SseClient.json(refused.errorBody);
            assertEquals(429, problem.getInt("status"));
            assertFalse(problem.getString("detail", "").isBlank());

            // another owner is not affected
            User other = new User();
            String otherId = startChat(other, "cap other " + UUID.randomUUID(), "paced:20:40");
            SseClient otherTab = follow(other, otherId, "tab-0", null, false);
            assertEquals("done", SseClient.last(otherTab.untilTerminal(30)).name());

            // a closed connection frees its place
            open.remove(0).disconnect();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            SseClient again;
            do {
                Thread.sleep(200);
                again = SseClient.get(user.http, uri("api/streams/" + id + "/events?clientId=tab-new"), Map.of());
            } while (again.status == 429 && System.nanoTime() < deadline);
            assertEquals(200, again.status, "a place is free again after a connection closed: " + again.errorBody);
            open.add(again);
        } finally {
            open.forEach(SseClient::disconnect);
            send(user, "POST", "api/streams/" + id + "/stop", null, null);
        }
    }

    // --- helpers

    /** One anonymous user: its own cookie jar. HTTP/1.1, so that a cut connection is a closed socket. */
    private static final class User {
        final CookieManager cookies = new CookieManager();
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).cookieHandler(cookies)
                .connectTimeout(Duration.ofSeconds(10)).build();

        String cookieHeader() {
            List<HttpCookie> all = cookies.getCookieStore().getCookies();
            assertFalse(all.isEmpty(), "the user has an identity cookie");
            return all.stream().map(c -> c.getName() + "=" + c.getValue()).collect(Collectors.joining("; "));
        }
    }

    /** A raw HTTP/1.1 request that follows a stream over SSE: {@code pathAndQuery} with the user's cookie. */
    private byte[] eventsRequest(String pathAndQuery, String cookie) {
        return ("GET " + pathAndQuery + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + port()
                + "\r\nAccept: text/event-stream\r\nCookie: " + cookie + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private URI uri(String path) {
        return URI.create(base.toString()).resolve(path.startsWith("/") ? path.substring(1) : path);
    }

    private int port() {
        return base.getPort() > 0 ? base.getPort() : 80;
    }

    /** POST /api/streams: 201 with Location and the stream's summary. */
    private JsonObject create(User user, JsonObject body) throws Exception {
        HttpResponse<String> r = send(user, "POST", "api/streams", "application/json", body.toString());
        assertEquals(201, r.statusCode(), r.body());
        JsonObject created = SseClient.json(r.body());
        String id = created.getString("streamId");
        assertTrue(r.headers().firstValue("Location").orElse("").endsWith("/api/streams/" + id),
                "Location: " + r.headers().firstValue("Location"));
        assertTrue(created.containsKey("status"), created::toString);
        assertTrue(created.containsKey("relatedId"), created::toString);
        assertTrue(created.getString("eventsUrl").endsWith("api/streams/" + id + "/events"), created::toString);
        return created;
    }

    private String startChat(User user, String message, String model) throws Exception {
        JsonObject created = create(user, Json.createObjectBuilder().add("type", "chat").add("message", message)
                .add("model", model).build());
        assertEquals("chat", created.getString("type"));
        return created.getString("streamId");
    }

    /**
     * Follows a stream: GET its events, after {@code lastEventId} when not null; the client id and the last id
     * go as query parameters ({@code query}) or as the headers X-Sluice-Client-Id and Last-Event-ID.
     */
    private SseClient follow(User user, String id, String clientId, String lastEventId, boolean query)
            throws Exception {
        String path = "api/streams/" + id + "/events";
        Map<String, String> headers = new LinkedHashMap<>();
        if (query) {
            path += "?clientId=" + clientId + (lastEventId == null ? "" : "&lastEventId=" + lastEventId);
        } else {
            headers.put("X-Sluice-Client-Id", clientId);
            if (lastEventId != null) {
                headers.put("Last-Event-ID", lastEventId);
            }
        }
        SseClient sse = SseClient.get(user.http, uri(path), headers);
        assertEquals(200, sse.status, sse.errorBody);
        assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        return sse;
    }

    private SseClient resume(User user, String id, int offset, String clientId) throws Exception {
        SseClient sse = SseClient.post(user.http, uri("api/chat/resume"),
                Json.createObjectBuilder().add("streamId", id).add("offset", offset).build().toString(),
                Map.of("X-Sluice-Client-Id", clientId));
        assertEquals(200, sse.status, sse.errorBody);
        assertTrue(sse.headers.firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        return sse;
    }

    /** Every event of the stream, as a follower attaching after the end gets them (no Last-Event-ID). */
    private List<SseClient.Event> allEvents(User user, String id) throws Exception {
        SseClient audit = follow(user, id, "audit-" + UUID.randomUUID(), null, false);
        List<SseClient.Event> events = SseClient.withoutPings(audit.untilTerminal(20));
        assertTrue(audit.awaitEnd(5), "a follower of an ended stream gets its events, then the response ends");
        return events;
    }

    /** The events seen across cuts are exactly the stream's: each once, in order, ids increasing. */
    private void assertExactlyTheStream(User user, String id, List<SseClient.Event> seen) throws Exception {
        assertIncreasingIds(seen);
        List<SseClient.Event> all = allEvents(user, id);
        List<SseClient.Event> reference = all.stream().filter(e -> Long.parseLong(e.id()) > 0).toList();
        assertEquals(reference.size(), seen.size(), "as many events as the stream has");
        assertEquals(reference, seen, "exactly the stream's events, each once, in order");
    }

    /** A completed chat: stream event first, final message, done; state and saved message agree. */
    private void assertCompleted(User user, String id, List<SseClient.Event> events, String expected)
            throws Exception {
        SseClient.Event first = events.get(0);
        assertEquals("stream", first.name());
        assertEquals(id, first.data().getString("streamId"));
        assertEquals("chat", first.data().getString("type"));
        String conversationId = first.data().getString("conversationId");
        assertNotNull(first.data().getString("userMessageId"));
        SseClient.Event done = SseClient.last(events);
        assertEquals("done", done.name(), () -> "terminal event " + done);
        assertEquals("completed", done.data().getString("status"));
        SseClient.Event finalMessage = events.get(events.size() - 2);
        assertEquals("message", finalMessage.name());
        assertTrue(finalMessage.data().getBoolean("isFinal"), "the last message is final");
        assertEquals(expected, SseClient.deltas(events), "the deltas rebuild the upstream's text");

        JsonObject state = state(user, id);
        assertEquals(id, state.getString("id"));
        assertEquals("chat", state.getString("type"));
        assertEquals("completed", state.getString("status"));
        assertEquals(expected, state.getString("content"));
        assertEquals(conversationId, state.getString("conversationId"));
        assertEquals(Long.parseLong(done.id()), state.getJsonNumber("lastEventId").longValueExact());
        assertEquals(done.data().getString("messageId"), state.getString("messageId"));

        JsonObject saved = savedAnswer(user, conversationId);
        assertEquals(done.data().getString("messageId"), saved.getString("id"));
        assertEquals(expected, saved.getString("content"));
        assertEquals("completed", saved.getString("status"));
    }

    private JsonObject state(User user, String id) throws Exception {
        return getJson(user, "api/streams/" + id);
    }

    private JsonObject awaitStatus(User user, String id, String status) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonObject state;
        do {
            state = state(user, id);
            if (status.equals(state.getString("status"))) {
                return state;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("stream status not " + status + " within 10 s: " + state);
    }

    /** The assistant message of a one-turn conversation, once it is saved (waits up to 10 s). */
    private JsonObject savedAnswer(User user, String conversationId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonArray messages;
        do {
            messages = getArray(user, "api/conversations/" + conversationId + "/messages");
            for (JsonValue v : messages) {
                if ("assistant".equals(v.asJsonObject().getString("role"))) {
                    return v.asJsonObject();
                }
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("no answer saved within 10 s: " + messages);
    }

    private int connections(User user) throws Exception {
        return getJson(user, "api/metrics").getInt("connections");
    }

    /** The connection count once it is 0 or has not changed for a heartbeat and a half (at most 10 s). */
    private int settledConnections(User user) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int n = connections(user);
        long since = System.nanoTime();
        while (n > 0 && millisSince(since) < 3000 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            int now = connections(user);
            if (now != n) {
                n = now;
                since = System.nanoTime();
            }
        }
        return n;
    }

    private int awaitConnections(User user, java.util.function.IntPredicate until, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int n;
        do {
            n = connections(user);
            if (until.test(n)) {
                return n;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return n;
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private HttpResponse<String> send(User user, String method, String path, String contentType, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return user.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonObject getJson(User user, String path) throws Exception {
        HttpResponse<String> r = send(user, "GET", path, null, null);
        assertEquals(200, r.statusCode(), () -> path + ": " + r.body());
        return SseClient.json(r.body());
    }

    private JsonArray getArray(User user, String path) throws Exception {
        HttpResponse<String> r = send(user, "GET", path, null, null);
        assertEquals(200, r.statusCode(), () -> path + ": " + r.body());
        return Json.createReader(new StringReader(r.body())).readArray();
    }

    private static JsonObject find(JsonArray streams, String id) {
        for (JsonValue v : streams) {
            JsonObject s = v.asJsonObject();
            if (id.equals(s.getString("id", null)) || id.equals(s.getString("streamId", null))) {
                return s;
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
        assertNotNull(problem.getString("title"), what);
        assertFalse(problem.getString("detail").isBlank(), what);
    }

    private static void assertIncreasingIds(List<SseClient.Event> events) {
        long previous = Long.MIN_VALUE;
        for (SseClient.Event e : events) {
            assertNotNull(e.id(), () -> "an id on " + e);
            long id = Long.parseLong(e.id());
            assertTrue(id > previous, "event ids strictly increase: " + id + " after " + previous);
            previous = id;
        }
    }

    private static void assertNoTerminal(List<SseClient.Event> events, String message) {
        assertTrue(events.stream().noneMatch(StreamsIT::isTerminal), message + ": " + events);
    }

    private static boolean isTerminal(SseClient.Event e) {
        return e.name().equals("done") || e.name().equals("stopped") || e.name().equals("error");
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
