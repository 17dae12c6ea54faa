package io.sluice.agents.control;

import java.util.List;

/**
 * One agent of a multi-agent run (API.md section 5): its name (the {@code agent} of its frames and of its saved
 * message), what it is for, the system prompt of its upstream request, and the agents whose output it reads.
 *
 * @param name         1 to {@value Roster#MAX_NAME} characters of {@code [a-z0-9_-]}, starting with a letter
 * @param description  one line for people, never {@code null}
 * @param systemPrompt its instructions, never blank
 * @param dependsOn    names of the agents of the same run that must end before it starts, in order
 * @param model        the model this agent asks (a route's name or a type name, API.md section 10), or {@code null}
 *                     for the run's
 */
public record AgentSpec(String name, String description, String systemPrompt, List<String> dependsOn,
                        String model) {

    public AgentSpec {
        dependsOn = List.copyOf(dependsOn);
    }

    /** An agent that asks the run's model. */
    public AgentSpec(String name, String description, String systemPrompt, List<String> dependsOn) {
        this(name, description, systemPrompt, dependsOn, null);
    }
}
