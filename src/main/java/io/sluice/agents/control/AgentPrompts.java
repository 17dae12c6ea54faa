package io.sluice.agents.control;

import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.CompletionRequest.ChatMessage;
import java.util.List;

/**
 * The upstream request of one agent of a run (API.md section 5): the agent's system prompt, and one user message
 * holding the task and the output of the agents it depends on:
 * <pre>
 * &lt;task&gt;
 * TASK
 * &lt;/task&gt;
 *
 * &lt;input from="planner"&gt;
 * OUTPUT
 * &lt;/input&gt;
 * </pre>
 * Each input is cut to {@value #INPUT_MAX} UTF-16 code units. {@link CompletionRequest#task()} is
 * {@code agent:NAME}, which the simulated model reads to answer in the agent's role. Stateless.
 */
public final class AgentPrompts {

    /** Most UTF-16 code units of one dependency's output quoted in a request. */
    public static final int INPUT_MAX = 16_000;

    private AgentPrompts() {
    }

    /** What an agent reads from an agent it depends on. */
    public record Input(String agent, String text) {
    }

    /**
     * @param model  the run's model, or {@code null} for the default; the agent's own model, when it has one, wins
     * @param agent  the agent
     * @param task   the run's task
     * @param inputs the outputs of the agents it depends on, in its {@code dependsOn} order
     */
    public static CompletionRequest request(String model, AgentSpec agent, String task, List<Input> inputs) {
        StringBuilder user = new StringBuilder("<task>\n").append(task.strip()).append("\n</task>");
        for (Input input : inputs) {
            String text = input.text();
            if (text.length() > INPUT_MAX) {
                int cut = INPUT_MAX - 1;
                if (Character.isHighSurrogate(text.charAt(cut - 1))) {
                    cut--;
                }
                text = text.substring(0, cut) + "\u2026";
            }
            user.append("\n\n<input from=\"").append(input.agent()).append("\">\n")
                    .append(text.isBlank() ? "(no output)" : text.strip()).append("\n</input>");
        }
        return new CompletionRequest(agent.model() != null ? agent.model() : model, agent.systemPrompt(),
                List.of(new ChatMessage("user", user.toString())),
                "agent:" + agent.name());
    }
}
