package io.sluice.streams.control;

import java.util.Map;

/**
 * Starts the streams of some {@link StreamType}s for {@code POST /api/streams} (API.md section 3): the seam through
 * which {@code streams} creates streams whose content belongs to a component above it (chat turns and the typed
 * tasks are {@code io.sluice.chat}'s). Implementations are CDI beans; {@code StreamsResource} asks each, through
 * {@code Instance<StreamStarter>}, whether it {@link #starts} the requested type, and hands the request to the first
 * that does. Implementations are thread-safe.
 */
public interface StreamStarter {

    /**
     * The fields of {@code POST /api/streams} that a type may read, as the client sent them (only {@code model} is
     * validated already: trimmed, at most the model name's length, or {@code null}).
     *
     * @param relatedId      what the stream is about, or {@code null}
     * @param conversationId a conversation id, or {@code null}
     * @param message        a chat turn's user text, or {@code null}
     * @param input          a typed task's text, or {@code null}
     * @param model          the model or route name, or {@code null} for the type's default
     * @param systemPrompt   a chat turn's system prompt override, or {@code null}
     * @param metadata       free-form string fields ({@code name} for {@code system_prompt}), or {@code null}
     */
    record Request(String relatedId, String conversationId, String message, String input, String model,
                   String systemPrompt, Map<String, String> metadata) {
    }

    /** @return whether this starter creates streams of {@code type} */
    boolean starts(StreamType type);

    /**
     * Validates the request for {@code type} and starts its stream.
     *
     * @param owner the caller ({@code io.sluice.identity.control.Owners})
     * @param type  a type for which {@link #starts} is true
     * @return the running stream
     * @throws io.sluice.platform.control.ProblemException 400 for a missing or invalid field, 404 for a foreign or
     *                                                     unknown conversation, 429 or 503 at a cap
     */
    Stream start(String owner, StreamType type, Request request);
}
