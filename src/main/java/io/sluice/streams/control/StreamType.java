package io.sluice.streams.control;

import io.sluice.providers.control.ModelType;
import io.sluice.providers.control.Workload;
import java.util.Locale;
import java.util.Optional;

/**
 * What a stream generates: the {@code type} of {@code POST /api/streams} (API.md section 3). {@link #wire()} is the
 * JSON value.
 *
 * <p>What each type reads from the request body (API.md section 3, "What each type reads from the body"):
 * <ul>
 *   <li>{@link #CHAT}: the {@code message} (and {@code conversationId});</li>
 *   <li>{@link #CONVERSATION_TITLE}: the conversation that {@code relatedId} names; started by the server after a
 *       conversation's first answer;</li>
 *   <li>{@link #TOPIC_TITLE}: the {@code input} text;</li>
 *   <li>{@link #PROMPT_OPTIMIZATION}: the user's draft prompt in {@code input};</li>
 *   <li>{@link #SYSTEM_PROMPT}: the assistant's description in {@code input} and its name in
 *       {@code metadata.name}.</li>
 *   <li>{@link #AGENT}: not created over HTTP; see {@code io.sluice.agents}.</li>
 *   <li>{@link #COMPLETION}: started by {@code POST /v1/chat/completions} (API.md section 8), never by
 *       {@code POST /api/streams};</li>
 *   <li>{@link #GENERATE}: started by {@code POST /api/generate} (API.md section 9), never by
 *       {@code POST /api/streams}.</li>
 * </ul>
 */
public enum StreamType implements Workload {
    /** A chat turn: the answer to {@code message} in a conversation. */
    CHAT,
    /** A short title for a conversation, from its first exchange. */
    CONVERSATION_TITLE,
    /** A short title for an arbitrary {@code input} text. */
    TOPIC_TITLE,
    /** The user's draft prompt ({@code input}) rewritten into a clearer, more effective prompt. */
    PROMPT_OPTIMIZATION,
    /** A system prompt for an assistant, from its name ({@code metadata.name}) and description ({@code input}). */
    SYSTEM_PROMPT,
    /**
     * One agent's generation in a multi-agent run (API.md section 5); started only by {@code /ws/agents}, never by
     * {@code POST /api/streams}. Its {@code relatedId} is the run id.
     */
    AGENT,
    /** One OpenAI-compatible chat completion (API.md section 8): the client's messages, no conversation. */
    COMPLETION,
    /** One generation from a prompt, with no conversation (API.md section 9). */
    GENERATE;

    /**
     * Whether clients create streams of this type with {@code POST /api/streams}; agent, completion and generate
     * streams have endpoints of their own.
     */
    public boolean creatable() {
        return this != AGENT && this != COMPLETION && this != GENERATE;
    }

    /**
     * The type of model route that serves this type when its request names no model (API.md section 10): a
     * {@code fast} route for the typed tasks (titles, prompt optimization, system prompts), an {@code instruct} route
     * for chat, completions, one-shot generations and agents.
     */
    @Override
    public ModelType defaultModelType() {
        return switch (this) {
            case CHAT, COMPLETION, GENERATE, AGENT -> ModelType.INSTRUCT;
            case CONVERSATION_TITLE, TOPIC_TITLE, PROMPT_OPTIMIZATION, SYSTEM_PROMPT -> ModelType.FAST;
        };
    }

    /** @return the JSON value: {@code chat}, {@code conversation_title}, {@code topic_title}, ... */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The type a client names in {@code POST /api/streams}: a {@link #wire()} name, or one of the seeds' own names
     * that API.md section 13 accepts as aliases ({@code conversation_title_generation} for
     * {@link #CONVERSATION_TITLE}, {@code topic_title_generation} for {@link #TOPIC_TITLE}, seed 003's
     * {@code StreamType}). The stream then has the canonical type, which every answer names.
     *
     * @param s the name, matched exactly (lower case), or {@code null}
     * @return the type, or empty when {@code s} is {@code null} or names no type
     */
    public static Optional<StreamType> named(String s) {
        if (s != null && s.endsWith(SEED_SUFFIX)) {
            Optional<StreamType> seed = fromWire(s.substring(0, s.length() - SEED_SUFFIX.length()));
            return seed.filter(type -> type == CONVERSATION_TITLE || type == TOPIC_TITLE);
        }
        return fromWire(s);
    }

    /** What seed 003's names of the title types add to the wire name: {@code topic_title_generation}. */
    private static final String SEED_SUFFIX = "_generation";

    /**
     * The type with this JSON value.
     *
     * @param s the value, matched exactly (lower case, as {@link #wire()} writes it), or {@code null}
     * @return the type, or empty when {@code s} is {@code null} or names no type
     */
    public static Optional<StreamType> fromWire(String s) {
        if (s == null) {
            return Optional.empty();
        }
        for (StreamType type : values()) {
            if (type.wire().equals(s)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
