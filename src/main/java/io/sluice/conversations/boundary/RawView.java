package io.sluice.conversations.boundary;

import io.sluice.conversations.entity.Message;
import io.sluice.providers.control.RawCapture;

/**
 * JSON view of an answer's raw record (API.md section 13; seed 002's {@code raw_request} / {@code raw_response}):
 * {@code {"request": <the JSON body sent upstream>, "response": {"chunks":[...],"receivedAt":[ms...],"truncated":bool,
 * "status":N|null,"doneAt":ms|null}}}. Both are spliced in as stored (JSON text this application wrote), so the chunks
 * come out exactly as the upstream sent them, key order and number forms included. {@code response} is {@code null}
 * where none was kept ({@code SLUICE_RAW_MAX_BYTES=0}, answers saved before the record existed).
 */
final class RawView {

    private RawView() {
    }

    /**
     * @param message an answer with an upstream request ({@code ConversationStore.withRawRecord})
     * @return the JSON text of its raw record
     */
    static String of(Message message) {
        byte[] response = message.getRawResponse();
        String decoded = response == null ? "null" : RawCapture.decode(response);
        return new StringBuilder(message.getUpstreamRequest().length() + decoded.length() + 28)
                .append("{\"request\":").append(message.getUpstreamRequest())
                .append(",\"response\":").append(decoded).append('}').toString();
    }
}
