package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The load bench's own parts (plain JUnit, no server): the event-stream parser, the HTTP/1.1 response decoding,
 * the text count, the JSON of the results file, and how a chat stream's end is counted, against a scripted local
 * server and the fake upstream.
 */
class LoadBenchTest {

    /** Feeds {@code text} to a parser in pieces of {@code step} bytes; returns "type|data" per dispatched event. */
    private static List<String> events(String text, int step) {
        LoadBench.SseParser p = new LoadBench.SseParser();
        List<String> out = new ArrayList<>();
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += step) {
            p.feed(b, i, Math.min(step, b.length - i), 0,
                    (type, data, length, now) -> out.add(type + "|" + new String(data, 0, length, StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void sseParserFollowsTheWhatwgRulesWhateverTheSplit() {
        String stream = "\uFEFF: a comment\r\nevent: stream\r\nid: 1\r\ndata: {\"a\":1}\r\n\r\n"
                + "data: one\rdata:two\r\rid: 7\n\n"          // CR line ends; no space after the colon; no data: nothing
                + "event: ping\n\n"                             // no data: not dispatched, and the type is reset
                + "data\n\n"                                    // a field with no colon: empty data, dispatched
                + "event: done\ndata: {}\n\n"
                + "data: cut off at the end";                   // no blank line: dropped
        for (int step = 1; step <= stream.length(); step++) {
            assertEquals(List.of("stream|{\"a\":1}", "message|one\ntwo", "message|", "done|{}"), events(stream, step),
                    "pieces of " + step + " bytes");
        }
    }

    @Test
    void sseParserKeepsTheLastEventId() {
        LoadBench.SseParser p = new LoadBench.SseParser();
        byte[] b = "id: 41\ndata: x\n\nid: 42\n\n".getBytes(StandardCharsets.UTF_8);
        p.feed(b, 0, b.length, 0, (type, data, length, now) -> { });
        assertEquals("42", p.lastEventId);
    }

    /** An exchange that only collects its decoded body. */
    private static final class Collect extends LoadBench.Exchange {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        int headersSeen;

        Collect() {
            super(new InetSocketAddress(1), new byte[0]);
        }

        @Override
        void onHeaders(long now) {
            headersSeen++;
        }

        @Override
        void onBody(byte[] b, int off, int len, long now) {
            body.write(b, off, len);
        }

        @Override
        void onComplete(long now) {
        }

        @Override
        void onFailure(LoadBench.Failure failure, String detail, long now) {
        }
    }

    @Test
    void chunkedAndLengthBodiesAreDecodedWhateverTheSplit() {
        String chunked = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
        String length = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\ncontent-length: 4\r\n\r\nbusy";
        for (int step = 1; step <= chunked.length(); step++) {
            Collect c = new Collect();
            assertTrue(feed(c, chunked, step), "complete, pieces of " + step);
            assertEquals("hello 0123456789", c.body.toString(StandardCharsets.UTF_8));
            assertEquals(200, c.status);
            assertEquals(1, c.headersSeen);
            assertEquals("text/event-stream", c.contentType);
        }
        for (int step = 1; step <= length.length(); step++) {
            Collect c = new Collect();
            assertTrue(feed(c, length, step));
            assertEquals("busy", c.body.toString(StandardCharsets.UTF_8));
            assertEquals(503, c.status);
            assertEquals("2", c.retryAfter);
        }
        Collect untilEnd = new Collect();
        assertFalse(feed(untilEnd, "HTTP/1.1 200 OK\r\n\r\nbody", 3));
        assertTrue(untilEnd.endIsComplete());
    }

    private static boolean feed(LoadBench.Exchange x, String response, int step) {
        byte[] b = response.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < b.length; i += step) {
            if (x.feed(b, i, Math.min(step, b.length - i), 0)) {
                return i + step >= b.length;
            }
        }
        return false;
    }

    @Test
    void textIsCountedInUtf16CodeUnits() {
        byte[] key = "\"delta\":".getBytes(StandardCharsets.US_ASCII);
        Object[][] cases = {
                {"{\"delta\":\"abc\",\"isFinal\":false}", 3L, true},
                {"{\"delta\":\"a\\\"b\\\\c\\n\"}", 6L, true},
                {"{\"delta\":\"caf\\u00e9\"}", 4L, true},
                {"{\"delta\":\"café\"}", 4L, true},
                {"{\"delta\":\"中文\"}", 2L, false},
                {"{\"delta\":\"\\u4e2d\"}", 1L, false},
                {"{\"delta\":\"😀\"}", 2L, false},
                {"{\"reasoning\":\"x\"}", -1L, true},
        };
        for (Object[] c : cases) {
            byte[] data = ((String) c[0]).getBytes(StandardCharsets.UTF_8);
            boolean[] latin1 = {true};
            assertEquals(c[1], LoadBench.jsonStringUnits(data, data.length, key, latin1), (String) c[0]);
            assertEquals(c[2], latin1[0], "all Latin-1: " + c[0]);
        }
    }

    @Test
    void jsonRoundTripsAndHeapInfoIsRead() {
        Object v = LoadBench.Json.parse("{\"a\":[1,2.5,\"x\\\"y\",true,null],\"b\":{\"c\":-3e2}}");
        assertEquals(v, LoadBench.Json.parse(LoadBench.Json.write(v)));
        assertEquals(1L, ((List<?>) ((Map<?, ?>) v).get("a")).get(0));
        String g1 = """
                 garbage-first heap   total 262144K, used 70312K [0x0000000700000000, 0x0000000800000000)
                  region size 1024K, 2 young (2048K), 0 survivors (0K)
                 Metaspace       used 120000K, committed 121000K, reserved 1179648K
                  class space    used 15000K, committed 15500K, reserved 1048576K
                """;
        assertEquals(70312L * 1024, LoadBench.heapUsed(g1));
        String parallel = """
                 PSYoungGen      total 76288K, used 1310K [0x000000076ab00000, 0x0000000770000000, 0x00000007c0000000)
                  eden space 65536K, 2% used [0x000000076ab00000,0x000000076ac47a08,0x000000076eb00000)
                 ParOldGen       total 175104K, used 20000K [0x00000006c0000000, 0x00000006cab00000, 0x000000076ab00000)
                 Metaspace       used 3000K, committed 3200K, reserved 1056768K
                """;
        assertEquals((1310L + 20000L) * 1024, LoadBench.heapUsed(parallel));
        Map<String, long[]> h = LoadBench.histogram("""
                 num     #instances         #bytes  class name (module)
                -------------------------------------------------------
                   1:         12345        1000000  [B (java.base@17.0.15)
                   2:           100           2400  java.lang.String (java.base@17.0.15)
                Total         12445        1002400
                """);
        assertEquals(1000000L, h.get("[B")[1]);
        assertEquals(100L, h.get("java.lang.String")[0]);
    }

    private static final Pattern INDEX = Pattern.compile("bench test (\\d+)");

    /**
     * A scripted server: stream {@code i} gets behaviour {@code i % 6}: 0 a complete stream, 1 a 503 with
     * Retry-After and problem+json, 2 a connection closed with no response, 3 event-stream headers then the end
     * with no terminal event, 4 a 500, 5 {@code done} after the wrong text.
     */
    private static void serve(ServerSocket server) {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> answer(s));
            t.setDaemon(true);
            t.start();
        }
    }

    private static void answer(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            Matcher m;
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                request.write(c);
                m = INDEX.matcher(request.toString(StandardCharsets.UTF_8));
                if (m.find() && request.toString(StandardCharsets.UTF_8).endsWith("}")) {
                    break;
                }
            }
            int i = Integer.parseInt(m.group(1));
            OutputStream out = s.getOutputStream();
            String sse = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                    + "event: stream\nid: 1\ndata: {\"streamId\":\"s\"}\n\n";
            switch (i % 6) {
                case 0 -> out.write((sse + "event: message\nid: 2\ndata: {\"delta\":\"lorem \",\"isFinal\":false}\n\n"
                        + ": keep-alive\n\nevent: message\nid: 3\ndata: {\"delta\":\"ipsum \",\"isFinal\":true}\n\n"
                        + "event: done\nid: 4\ndata: {\"status\":\"completed\"}\n\n").getBytes(StandardCharsets.UTF_8));
                case 1 -> out.write(("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: "
                        + "application/problem+json\r\nContent-Length: 17\r\n\r\n{\"status\":503...}")
                        .getBytes(StandardCharsets.UTF_8));
                case 2 -> { }
                case 3 -> out.write(sse.getBytes(StandardCharsets.UTF_8));
                case 4 -> out.write("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.UTF_8));
                default -> out.write((sse + "event: message\nid: 2\ndata: {\"delta\":\"lorem\"}\n\n"
                        + "event: done\nid: 3\ndata: {}\n\n").getBytes(StandardCharsets.UTF_8));
            }
            out.flush();
        } catch (IOException ignored) {
            // the client left
        }
    }

    @Test
    void everyEndIsCountedInItsOwnCategory() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> serve(server));
            t.setDaemon(true);
            t.start();
            LoadBench.NioClient client = new LoadBench.NioClient(2, 10);
            try {
                LoadBench.Target target = LoadBench.Target.of("http://127.0.0.1:" + server.getLocalPort());
                LoadBench.Run run = new LoadBench.Run("test", target, client, "bench", false);
                LoadBench.Shape shape = new LoadBench.Shape(2, 0); // "lorem ipsum "
                for (int i = 0; i < 12; i++) {
                    run.launch(i, shape);
                }
                run.stopLaunching();
                assertTrue(run.awaitAll(System.nanoTime() + TimeUnit.SECONDS.toNanos(20)), () -> "all ended: " + run.figures());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.COMPLETED).get());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.REFUSED_503).get());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.DROPPED).get());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.NO_TERMINAL).get());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.OTHER_HTTP).get());
                assertEquals(2, run.outcomes.get(LoadBench.Outcome.TEXT_MISMATCH).get());
                Map<String, Object> f = run.figures();
                assertEquals(Map.of("end_without_terminal", 2L, "eof_before_response", 2L, "http_500", 2L,
                        "http_503", 2L, "text_mismatch", 2L), f.get("reasons"));
                // first token: the streams with a message event (behaviours 0 and 5); a gap needs two (behaviour 0)
                assertEquals(4L, ((Number) ((Map<?, ?>) f.get("ttftMs")).get("n")).longValue());
                assertEquals(2L, ((Number) ((Map<?, ?>) f.get("gapMs")).get("n")).longValue());
                assertEquals(2L, ((Number) ((Map<?, ?>) f.get("refusalMs")).get("n")).longValue());
                assertEquals(2L * "lorem ipsum ".length(), ((Number) f.get("completedChars")).longValue());
            } finally {
                client.close();
            }
        }
    }

    @Test
    void theFakeUpstreamAnswersEachShapeAndFinishesEarlyOnRequest() throws Exception {
        try (ServerSocket probe = new ServerSocket(0)) {
            int port = probe.getLocalPort();
            probe.close();
            LoadBench.FakeUpstream up = new LoadBench.FakeUpstream(port, new LoadBench.Shape(5, 0));
            up.start();
            LoadBench.NioClient client = new LoadBench.NioClient(1, 10);
            try {
                InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
                LoadBench.DirectStream fast = new LoadBench.DirectStream(address, "x [shape chunks=2000 interval=0]");
                client.start(fast);
                assertTrue(fast.ttft.get(10, TimeUnit.SECONDS) >= 0);
                LoadBench.DirectStream slow = new LoadBench.DirectStream(address, "y [shape chunks=1000 interval=1000]");
                client.start(slow);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (up.open.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                long t0 = System.nanoTime();
                LoadBench.Reply r = LoadBench.plain(address, "127.0.0.1", "POST", "/bench/finish", "{}", 5000);
                assertEquals("{\"finished\":1}", r.body());
                assertTrue(slow.ttft.get(5, TimeUnit.SECONDS) >= 0, "the slow answer ended with [DONE]");
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
                Map<?, ?> stats = (Map<?, ?>) LoadBench.Json.parse(
                        LoadBench.plain(address, "127.0.0.1", "GET", "/bench/stats", null, 5000).body());
                assertEquals(2L, stats.get("requests"));
                assertEquals(2L, stats.get("completed"));
                assertEquals(1L, stats.get("finishedEarly"));
                assertTrue(((Number) stats.get("chunks")).longValue() >= 2001);
            } finally {
                client.close();
                up.stop();
            }
        }
    }
}
