package io.sluice.chat.control;

import io.sluice.conversations.entity.Message;
import io.sluice.streams.control.Stream;
import java.time.Instant;

/**
 * The assistant message of an ended stream (API.md section 2, "Persistence"): its text and reasoning so far, how
 * it ended, the model, usage, time to first token and duration, the raw record of its upstream exchange (the request
 * sent, and the response as {@link Stream#rawResponse()} encodes it) and, when the stream ended in {@code error}, that
 * error's message (API.md section 13). Shared by chat answers and agents' messages.
 */
public final class Answers {

    private Answers() {
    }

    /**
     * @param id           the message id
     * @param seq          its reserved position in the conversation
     * @param startedAt    when its turn (or run) started
     * @param upstreamJson the request body sent upstream, saved with it (JSON text)
     * @return the message, not yet persisted; {@code updatedAt} is now
     */
    public static Message of(String id, String conversationId, int seq, Instant startedAt, String upstreamJson,
                             Stream stream, Stream.End end) {
        Message answer = new Message(id, conversationId, seq, "assistant", stream.content(), end.messageStatus(),
                startedAt);
        String reasoning = stream.reasoning();
        answer.setReasoning(reasoning.isEmpty() ? null : reasoning);
        answer.setFinishReason(end.finishReason());
        answer.setEndReason(end.reason());
        answer.setModel(end.model() != null ? end.model() : stream.model());
        answer.setStreamId(stream.id());
        answer.setUpstreamRequest(upstreamJson);
        answer.setRawResponse(stream.rawResponse());
        if (end.failure() != null) {
            answer.setErrorMessage(end.failure().getMessage());
        }
        answer.setUsage(Stream.usageInt(end.usage(), "prompt_tokens"),
                Stream.usageInt(end.usage(), "completion_tokens"), Stream.usageInt(end.usage(), "total_tokens"));
        answer.setTimeToFirstTokenMs(stream.timeToFirstTokenMs());
        answer.setDurationMs(stream.durationMs());
        answer.setUpdatedAt(Instant.now());
        return answer;
    }
}
