package io.sluice.warmup.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The warm-up's upstream against the JDK's HTTP client, as Sluice's provider calls it, and raw sockets. */
class WarmupUpstreamTest {

    private static final Pattern CONTENT = Pattern.compile("\"content\":\"([^\"]*)\"");
    private static final Pattern REASONING = Pattern.compile("\"reasoning_content\":\"([^\"]*)\"");

    private WarmupUpstream upstream;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        upstream = WarmupUpstream.start(Executors.defaultThreadFactory());
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    private HttpResponse<String> complete(String userMessage) throws Exception {
        String body = "{\"model\":\"warmup\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\""
                + userMessage + "\"}]}";
        return http.send(HttpRequest.newBuilder(URI.create(upstream.baseUri() + "/chat/completions"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> all(Pattern p, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    @Test
    void theMarkerSetsTheAnswersShapeAndTheStreamEndsLikeOpenAis() throws Exception {
        assertTrue(upstream.baseUri().toString().matches("http://127\\.0\\.0\\.1:\\d+/v1"), upstream.baseUri().toString());
        WarmupUpstream.Shape shape = new WarmupUpstream.Shape(5, 20, 2);
        long start = System.nanoTime();
        HttpResponse<String> r = complete("hello " + shape.marker());
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, r.statusCode());
        assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
        assertEquals(List.of("lorem ", "ipsum "), all(REASONING, r.body()));
        assertEquals(List.of("dolor ", "sit ", "amet ", "consectetur ", "adipiscing "), all(CONTENT, r.body()));
        assertTrue(r.body().contains("\"finish_reason\":\"stop\""), r.body());
        assertTrue(r.body().contains("\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":7,\"total_tokens\":15}"));
        assertTrue(r.body().endsWith("data: [DONE]\n\n"), r.body());
        assertTrue(tookMs >= 6 * 20, "paced: 7 chunks 20 ms apart took " + tookMs + " ms");
    }

    @Test
    void aRequestWithoutTheMarkerGetsTheDefaultAnswerAtOnceAndConnectionsAreKeptAlive() throws Exception {
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = complete("Write a title for: <question>hi</question>");
            assertEquals(WarmupUpstream.DEFAULT.chunks(), all(CONTENT, r.body()).size());
        }
        assertEquals(5, upstream.answers());
        assertEquals(5, upstream.requests());
    }

    @Test
    void otherPathsAre404AndAClientThatLeavesMidAnswerHarmsNoOther() throws Exception {
        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create(upstream.baseUri() + "/models"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        URI base = upstream.baseUri();
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            String body = "{\"messages\":[{\"content\":\"" + new WarmupUpstream.Shape(100, 50, 0).marker() + "\"}]}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n"
                    + body).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] first = new byte[64];
            assertTrue(in.read(first) > 0);
            assertTrue(new String(first, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK"));
        } // left mid-answer
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            s.getOutputStream().write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] head = s.getInputStream().readNBytes(30);
            assertTrue(new String(head, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 411"), "no Content-Length");
        }
        assertEquals(4, all(CONTENT, complete("again").body()).size(), "still serving");
    }

    @Test
    void aMarkerOutOfRangeIsIgnored() {
        assertEquals(WarmupUpstream.DEFAULT, WarmupUpstream.Shape.in("[warm-up chunks=12345 interval=1 reasoning=0]"));
        assertEquals(new WarmupUpstream.Shape(1, 0, 0),
                WarmupUpstream.Shape.in("x [warm-up chunks=0 interval=0 reasoning=0] y"), "at least one chunk");
    }
}
