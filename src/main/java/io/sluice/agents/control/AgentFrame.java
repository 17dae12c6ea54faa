package io.sluice.agents.control;

import java.util.List;
import java.util.Map;

/**
 * An entry of a multi-agent run's log (API.md section 5), typed; the WebSocket edge renders it as a JSON text frame
 * ({@link AgentFrames}) with its sequence number, which is its id in the run's log.
 */
public sealed interface AgentFrame {

    /**
     * {@code run_started}.
     *
     * @param agents    the agents in run order
     * @param dependsOn each agent's dependencies, by name
     */
    record RunStarted(String task, List<String> agents, Map<String, List<String>> dependsOn, String conversationId)
            implements AgentFrame {
    }

    /**
     * {@code agent_status}.
     *
     * @param code  for {@code error}, the error code, else {@code null}
     * @param error for {@code error}, a sentence, else {@code null}
     */
    record Status(String agent, AgentRun.AgentStatus status, String code, String error) implements AgentFrame {
    }

    /**
     * {@code agent_output}: a coalesced delta of an agent's answer ({@code content}) or reasoning.
     *
     * @param text the delta, shared with the agent stream's log entry (not a copy)
     */
    record Output(String agent, boolean reasoning, String text) implements AgentFrame {
    }

    /** {@code run_complete}. */
    record Complete(AgentRun.RunStatus status) implements AgentFrame {
    }
}
