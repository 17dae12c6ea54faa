package io.sluice.openai.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.DeltaCoalescer;
import io.sluice.streams.control.EventLog;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamEntry;
import io.sluice.streams.control.StreamEvent;
import io.sluice.streams.control.StreamStatus;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code /v1} rendering of a stream's entries (API.md section 8). */
class ChunkEdgeTest {

    private final List<OpenAiError> early = new ArrayList<>();
    private boolean committed;

    private ChunkEdge edge(boolean usage) {
        return new ChunkEdge("s-1", 1700000000L, "fast", usage, error -> {
            if (committed) {
                return false;
            }
            early.add(error);
            return true;
        });
    }

    private static List<StreamEvent> render(ChunkEdge edge, long id, StreamEntry entry) {
        return edge.render(null, new EventLog.Logged<>(id, entry));
    }

    private static JsonObject json(StreamEvent e) {
        return Json.createReader(new StringReader(e.data())).readObject();
    }

    private static StreamEntry.Delta content(String text, int from) {
        return new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, from, text, from + text.length(), false);
    }

    @Test
    void deltasBecomeChunksAfterOneRoleChunkAndTheEndGivesFinishUsageAndDone() {
        ChunkEdge edge = edge(true);
        assertTrue(render(edge, 1, new StreamEntry.Opened(Json.createObjectBuilder().build())).isEmpty());
        List<StreamEvent> first = render(edge, 2, new StreamEntry.Delta(DeltaCoalescer.Kind.REASONING, 0, "think\n\"",
                0, false));
        assertEquals(2, first.size());
        JsonObject role = json(first.get(0));
        assertEquals("chatcmpl-s-1", role.getString("id"));
        assertEquals("chat.completion.chunk", role.getString("object"));
        assertEquals(1700000000L, role.getJsonNumber("created").longValue());
        assertEquals("fast", role.getString("model"));
        assertEquals("assistant", role.getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                .getString("role"));
        JsonObject reasoning = json(first.get(1)).getJsonArray("choices").getJsonObject(0);
        assertEquals("think\n\"", reasoning.getJsonObject("delta").getString("reasoning_content"));
        assertTrue(reasoning.isNull("finish_reason"));
        assertFalse(first.get(1).comment());
        assertNull(first.get(1).name(), "unnamed events, as OpenAI sends them");
        assertEquals(0, first.get(1).id(), "no ids");

        List<StreamEvent> text = render(edge, 3, content("Hé 🙂", 0));
        assertEquals(1, text.size(), "the role chunk comes once");
        assertEquals("Hé 🙂", json(text.get(0)).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                .getString("content"));
        assertTrue(render(edge, 4, new StreamEntry.Delta(DeltaCoalescer.Kind.CONTENT, 5, "", 5, true)).isEmpty(),
                "the empty final marker gives nothing");

        JsonObject usage = Json.createObjectBuilder().add("prompt_tokens", 3).add("completion_tokens", 2)
                .add("total_tokens", 5).build();
        List<StreamEvent> end = render(edge, 5, new StreamEntry.Ended(new Stream.End(StreamStatus.COMPLETED,
                MessageStatus.COMPLETED, null, "length", usage, "m", null), "msg", 5));
        assertEquals(3, end.size());
        JsonObject finish = json(end.get(0)).getJsonArray("choices").getJsonObject(0);
        assertEquals("length", finish.getString("finish_reason"));
        assertTrue(finish.getJsonObject("delta").isEmpty());
        JsonObject usageChunk = json(end.get(1));
        assertTrue(usageChunk.getJsonArray("choices").isEmpty());
        assertEquals(usage, usageChunk.getJsonObject("usage"));
        assertEquals("[DONE]", end.get(2).data());
        assertTrue(early.isEmpty());
    }

    @Test
    void withoutUsageRequestedNoUsageChunkAndAMissingFinishReasonIsStop() {
        ChunkEdge edge = edge(false);
        List<StreamEvent> end = render(edge, 2, new StreamEntry.Ended(new Stream.End(StreamStatus.COMPLETED,
                MessageStatus.COMPLETED, null, null, null, null, null), "msg", 0));
        assertEquals(3, end.size(), "role, finish, [DONE]");
        assertEquals("stop", json(end.get(1)).getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        assertEquals("[DONE]", end.get(2).data());
    }

    @Test
    void aFailureBeforeAnyOutputBecomesAnHttpErrorAndAfterItAnErrorEventWithoutDone() {
        Stream.End limited = new Stream.End(StreamStatus.ERROR, MessageStatus.ERROR, "RATE_LIMITED", null, null, null,
                new UpstreamException(FailureCode.RATE_LIMITED, "the upstream answered 429", 429, 7L));
        assertTrue(render(edge(false), 2, new StreamEntry.Ended(limited, null, 0)).isEmpty());
        assertEquals(429, early.get(0).status());
        assertEquals(7L, early.get(0).retryAfterSeconds());

        ChunkEdge edge = edge(false);
        render(edge, 2, content("partial", 0));
        List<StreamEvent> end = render(edge, 3, new StreamEntry.Ended(new Stream.End(StreamStatus.ERROR,
                MessageStatus.PARTIAL, "STREAM_TIMEOUT", null, null, null,
                new UpstreamException(FailureCode.STREAM_TIMEOUT, "too long")), null, 7));
        assertEquals(1, end.size());
        JsonObject error = json(end.get(0)).getJsonObject("error");
        assertEquals("STREAM_TIMEOUT", error.getString("code"));
        assertEquals("too long", error.getString("message"));
        assertEquals(1, early.size(), "too late for a status line");

        committed = true; // a heartbeat went out: the stream has begun
        List<StreamEvent> stopped = render(edge(false), 2, new StreamEntry.Ended(Stream.End.stopped("user",
                MessageStatus.STOPPED), null, 0));
        assertEquals("stopped", json(stopped.get(0)).getJsonObject("error").getString("code"));
    }

    @Test
    void theHeartbeatIsACommentLine() {
        StreamEvent beat = edge(false).heartbeat();
        assertTrue(beat.comment());
    }

    @Test
    void requestsAreCheckedAndOnlySamplingFieldsForwarded() {
        OpenAiRequest request = OpenAiRequest.parse(Json.createReader(new StringReader("""
                {"model":"fast","stream":true,"stream_options":{"include_usage":true},"temperature":0.2,
                 "tools":[],"x-unknown":1,"messages":[{"role":"system","content":"s"},
                 {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""")).readObject());
        assertEquals("fast", request.model());
        assertTrue(request.stream());
        assertTrue(request.includeUsage());
        assertEquals(Json.createObjectBuilder().add("temperature", 0.2).build(), request.options());
        assertEquals("a\nb", request.messages().get(1).content());
        assertEquals("user", request.messages().get(1).raw().getString("role"));
        for (String bad : List.of("{\"messages\":[]}", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}",
                "{\"n\":3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "{\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "{\"tools\":[{}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(io.sluice.platform.control.ProblemException.class,
                    () -> OpenAiRequest.parse(Json.createReader(new StringReader(bad)).readObject()), bad);
            assertEquals(400, e.status());
        }
    }
}
