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
 */
public record AgentSpec(String name, String description, String systemPrompt, List<String> dependsOn) {

    public AgentSpec {
        dependsOn = List.copyOf(dependsOn);
    }
}
