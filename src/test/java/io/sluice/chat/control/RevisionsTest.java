package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sluice.conversations.control.Continuation;
import io.sluice.conversations.control.Turn;
import io.sluice.conversations.entity.Message;
import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.CompletionRequest;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RevisionsTest {

    @Test
    void aContinuationCarriesTheAnswerSoFarAsContextThenAsksToGoOn() {
        Continuation c = new Continuation("o", "c", "a2", "u2", "Q2", "The answer so f",
                List.of(new Turn.Entry("user", "Q1"), new Turn.Entry("assistant", "A1")), "sys", "m",
                Instant.EPOCH);
        CompletionRequest request = Revisions.request(c, "m", "sys");
        assertEquals(List.of(
                new CompletionRequest.ChatMessage("user", "Q1"),
                new CompletionRequest.ChatMessage("assistant", "A1"),
                new CompletionRequest.ChatMessage("user", "Q2"),
                new CompletionRequest.ChatMessage("assistant", "The answer so f"),
                new CompletionRequest.ChatMessage("user", Revisions.CONTINUE_INSTRUCTION)), request.messages());
        assertEquals("sys", request.systemPrompt());
        assertEquals("m", request.model());
    }

    @Test
    void theSavedAnswerJoinsTheTextAndTakesTheContinuationsEnd() {
        Message answer = new Message("a", "c", 2, "assistant", "Hello wor", MessageStatus.COMPLETED, Instant.EPOCH);
        answer.setFinishReason("length");
        answer.setUsage(10, 5, 15);
        answer.setDurationMs(1000L);
        answer.setTimeToFirstTokenMs(100L);
        answer.setStreamId("s1");
        Message part = new Message("a", "c", 0, "assistant", "ld.", MessageStatus.STOPPED, Instant.EPOCH);
        part.setReasoning("thought");
        part.setFinishReason(null);
        part.setEndReason("user");
        part.setUsage(20, 2, 22);
        part.setDurationMs(300L);
        part.setTimeToFirstTokenMs(50L);
        part.setStreamId("s2");
        answer.continueWith(part);
        assertEquals("Hello world.", answer.getContent());
        assertEquals("thought", answer.getReasoning());
        assertEquals("stopped", answer.getStatus());
        assertNull(answer.getFinishReason());
        assertEquals("user", answer.getEndReason());
        assertEquals("s2", answer.getStreamId());
        assertEquals(30, answer.getPromptTokens());
        assertEquals(7, answer.getCompletionTokens());
        assertEquals(37, answer.getTotalTokens());
        assertEquals(1300L, answer.getDurationMs());
        assertEquals(100L, answer.getTimeToFirstTokenMs());
    }

    @Test
    void theJoinedAnswersRawRecordAndErrorAreTheContinuations() {
        Message answer = new Message("a", "c", 2, "assistant", "Hello wor", MessageStatus.ERROR, Instant.EPOCH);
        answer.setUpstreamRequest("{\"first\":true}");
        answer.setRawResponse(new byte[] {1});
        answer.setEndReason("UPSTREAM_ERROR");
        answer.setErrorMessage("the upstream failed (HTTP 500)");
        Message part = new Message("a", "c", 0, "assistant", "ld.", MessageStatus.COMPLETED, Instant.EPOCH);
        part.setUpstreamRequest("{\"continuation\":true}");
        part.setRawResponse(new byte[] {2});
        answer.continueWith(part);
        assertEquals("{\"continuation\":true}", answer.getUpstreamRequest());
        assertArrayEquals(new byte[] {2}, answer.getRawResponse());
        assertNull(answer.getErrorMessage(), "the continuation completed: no error any more");
        assertNull(answer.getEndReason());
    }
}
