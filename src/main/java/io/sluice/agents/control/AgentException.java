package io.sluice.agents.control;

/**
 * A refused {@code /ws/agents} request, answered with an {@code error} frame (API.md section 5) that leaves the
 * session usable. {@link #code()} is a stable upper-case token; {@link #getMessage()} is shown to the client.
 *
 * <p>Codes: {@code BAD_FRAME} (malformed JSON or an invalid field), {@code UNKNOWN_TYPE}, {@code FRAME_TOO_LARGE},
 * {@code INVALID_ROSTER}, {@code RUN_NOT_FOUND} (unknown id or someone else's run), {@code RUN_GONE} (the owner's
 * run ended and left memory), {@code AGENT_NOT_FOUND}, {@code TOO_MANY_RUNS}, {@code TOO_MANY_STREAMS},
 * {@code INTERNAL_ERROR}.
 */
public class AgentException extends RuntimeException {

    private final String code;
    private final String runId;

    /**
     * @param runId the run the refused request named, or {@code null}
     */
    public AgentException(String code, String message, String runId) {
        super(message, null, false, false);
        this.code = code;
        this.runId = runId;
    }

    public String code() {
        return code;
    }

    /** The run the refused request named, or {@code null}. */
    public String runId() {
        return runId;
    }
}
