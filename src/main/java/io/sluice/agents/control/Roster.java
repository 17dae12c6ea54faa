package io.sluice.agents.control;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The named agents a run can use, and the validation of a run's selection (API.md section 5, the {@code agents}
 * of a {@code run} frame). Immutable and thread-safe.
 *
 * <p>The built-in roster ({@link #defaults()}) is a small research pipeline: {@code planner}, then
 * {@code researcher} and {@code critic} in parallel (both read the plan), then {@code writer} (reads both).
 * Operators replace it with {@code SLUICE_AGENTS_ROSTER} ({@link #parse}).
 *
 * <p>A selection ({@link #select}) is either omitted (the whole roster), or an array whose items are roster
 * names ({@code "planner"}) or custom agents ({@code {"name","systemPrompt","dependsOn","description","model"}};
 * {@code model}, a route's name or a type name, is the model that agent asks instead of the run's).
 * A named agent depends on the nearest selected agents upstream of it in the roster: selecting
 * {@code ["planner","writer"]} makes the writer read the planner directly. A custom agent's {@code dependsOn}
 * must name agents of the same selection. Names are unique, dependencies form no cycle, and the result is in
 * an order where every agent comes after those it depends on (the given order where it allows).
 */
public final class Roster {

    /** Longest agent name, in characters. */
    public static final int MAX_NAME = 40;
    /** Longest system prompt of an agent, in UTF-16 code units. */
    public static final int MAX_PROMPT = 8000;
    /** Longest model name of an agent, in UTF-16 code units (a route's name or a type name, API.md section 10). */
    public static final int MAX_MODEL = 200;
    /** Longest description of an agent, in UTF-16 code units. */
    public static final int MAX_DESCRIPTION = 300;

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0," + (MAX_NAME - 1) + "}");

    private static final Roster DEFAULTS = new Roster(List.of(
            new AgentSpec("planner", "Breaks the task into a short plan",
                    String.join("\n",
                            "You are the planner of a small team of AI agents. The user message holds the task "
                                    + "inside <task> tags.",
                            "Write a concise plan of 3 to 6 numbered steps that the team can follow to complete it.",
                            "- Name what must be found out and what the final answer must contain.",
                            "- Do not carry out the steps yourself; plan only.",
                            "- Use Markdown, and answer in the language of the task."),
                    List.of()),
            new AgentSpec("researcher", "Gathers the facts the plan asks for",
                    String.join("\n",
                            "You are the researcher of a small team of AI agents. The user message holds the task "
                                    + "inside <task> tags and the planner's plan inside <input from=\"planner\"> tags.",
                            "Work through the plan and write down the facts, figures, examples and sources the "
                                    + "writer will need, as Markdown bullet points grouped by plan step.",
                            "- Say plainly when something is uncertain; never invent sources.",
                            "- Answer in the language of the task."),
                    List.of("planner")),
            new AgentSpec("critic", "Points out risks, gaps and pitfalls",
                    String.join("\n",
                            "You are the critic of a small team of AI agents. The user message holds the task "
                                    + "inside <task> tags and the planner's plan inside <input from=\"planner\"> tags.",
                            "Review the plan: list its gaps, risky assumptions, likely pitfalls and what a good "
                                    + "answer must not forget, as short Markdown bullet points.",
                            "- Be specific and constructive; suggest a fix for each point.",
                            "- Answer in the language of the task."),
                    List.of("planner")),
            new AgentSpec("writer", "Writes the final answer",
                    String.join("\n",
                            "You are the writer of a small team of AI agents. The user message holds the task "
                                    + "inside <task> tags and your teammates' notes inside <input from=\"...\"> tags.",
                            "Write the final answer to the task for the user, using the research and taking the "
                                    + "critic's points into account.",
                            "- Clear Markdown with a short title; no mention of the team or of these notes.",
                            "- Answer in the language of the task."),
                    List.of("researcher", "critic"))));

    private final Map<String, AgentSpec> agents;

    private Roster(List<AgentSpec> agents) {
        Map<String, AgentSpec> byName = new LinkedHashMap<>();
        for (AgentSpec agent : agents) {
            byName.put(agent.name(), agent);
        }
        this.agents = byName;
    }

    /** The built-in roster: planner → (researcher ∥ critic) → writer. */
    public static Roster defaults() {
        return DEFAULTS;
    }

    /**
     * A roster from its JSON form ({@code SLUICE_AGENTS_ROSTER}): an array of
     * {@code {"name","systemPrompt","dependsOn":[...],"description"}}, each {@code dependsOn} naming agents of the
     * same array.
     *
     * @throws RosterException when it is not such an array, or names, prompts or dependencies are invalid
     */
    public static Roster parse(JsonValue json) {
        if (!(json instanceof JsonArray array) || array.isEmpty()) {
            throw new RosterException("the roster must be a non-empty JSON array of agents");
        }
        List<AgentSpec> specs = new ArrayList<>();
        for (JsonValue item : array) {
            if (!(item instanceof JsonObject object)) {
                throw new RosterException("each agent of the roster must be an object with name and systemPrompt");
            }
            specs.add(custom(object));
        }
        checkGraph(specs);
        return new Roster(order(specs));
    }

    /** The roster's agents, in an order where each comes after those it depends on. */
    public List<AgentSpec> agents() {
        return List.copyOf(agents.values());
    }

    /**
     * The agents of a run.
     *
     * @param selection {@code null} (or JSON {@code null}) for the whole roster, else a JSON array of roster
     *                  names and custom agent objects
     * @param maxAgents the most agents a run may have
     * @return the run's agents, each after those it depends on
     * @throws RosterException for an empty or over-long selection, an unknown name, a duplicate, an invalid
     *                         custom agent, a dependency outside the selection, or a cycle
     */
    public List<AgentSpec> select(JsonValue selection, int maxAgents) {
        if (selection == null || selection.getValueType() == JsonValue.ValueType.NULL) {
            if (agents.size() > maxAgents) {
                throw new RosterException("the roster has more than " + maxAgents + " agents");
            }
            return agents();
        }
        if (!(selection instanceof JsonArray array)) {
            throw new RosterException("agents must be an array of agent names or agent objects");
        }
        if (array.isEmpty()) {
            throw new RosterException("agents must name at least one agent");
        }
        if (array.size() > maxAgents) {
            throw new RosterException("a run has at most " + maxAgents + " agents");
        }
        Set<String> chosen = new LinkedHashSet<>();
        List<JsonValue> items = new ArrayList<>(array);
        for (JsonValue item : items) {
            String name = item instanceof JsonString s ? s.getString()
                    : item instanceof JsonObject o && o.get("name") instanceof JsonString n ? n.getString() : null;
            if (name == null) {
                throw new RosterException("each agent must be a name or an object with a name");
            }
            if (!chosen.add(name)) {
                throw new RosterException("agent " + name + " is named twice");
            }
        }
        List<AgentSpec> specs = new ArrayList<>();
        for (JsonValue item : items) {
            if (item instanceof JsonString s) {
                AgentSpec known = agents.get(s.getString());
                if (known == null) {
                    throw new RosterException("unknown agent " + quoted(s.getString()) + "; known agents: "
                            + String.join(", ", agents.keySet()));
                }
                specs.add(new AgentSpec(known.name(), known.description(), known.systemPrompt(),
                        nearestSelected(known, chosen), known.model()));
            } else {
                specs.add(custom((JsonObject) item));
            }
        }
        checkGraph(specs);
        return order(specs);
    }

    /** The selected agents upstream of {@code agent} in the roster, looking through unselected ones. */
    private List<String> nearestSelected(AgentSpec agent, Set<String> chosen) {
        Set<String> result = new LinkedHashSet<>();
        Set<String> seen = new HashSet<>();
        List<String> frontier = new ArrayList<>(agent.dependsOn());
        while (!frontier.isEmpty()) {
            String name = frontier.remove(0);
            if (!seen.add(name)) {
                continue;
            }
            if (chosen.contains(name)) {
                result.add(name);
            } else if (agents.containsKey(name)) {
                frontier.addAll(agents.get(name).dependsOn());
            }
        }
        return List.copyOf(result);
    }

    private static AgentSpec custom(JsonObject object) {
        String name = string(object, "name", true);
        if (!NAME.matcher(name).matches()) {
            throw new RosterException("agent name " + quoted(name) + " must be 1 to " + MAX_NAME
                    + " characters of a-z, 0-9, _ and -, starting with a letter");
        }
        String prompt = string(object, "systemPrompt", true);
        if (prompt.isBlank() || prompt.length() > MAX_PROMPT) {
            throw new RosterException("systemPrompt of agent " + name + " must be 1 to " + MAX_PROMPT + " characters");
        }
        String description = string(object, "description", false);
        if (description != null && description.length() > MAX_DESCRIPTION) {
            throw new RosterException("description of agent " + name + " is longer than " + MAX_DESCRIPTION);
        }
        List<String> dependsOn = new ArrayList<>();
        JsonValue deps = object.get("dependsOn");
        if (deps != null && deps.getValueType() != JsonValue.ValueType.NULL) {
            if (!(deps instanceof JsonArray list)) {
                throw new RosterException("dependsOn of agent " + name + " must be an array of agent names");
            }
            for (JsonValue dep : list) {
                if (!(dep instanceof JsonString s)) {
                    throw new RosterException("dependsOn of agent " + name + " must be an array of agent names");
                }
                if (!dependsOn.contains(s.getString())) {
                    dependsOn.add(s.getString());
                }
            }
        }
        String model = string(object, "model", false);
        if (model != null && (model.isBlank() || model.length() > MAX_MODEL)) {
            throw new RosterException("model of agent " + name + " must be 1 to " + MAX_MODEL + " characters");
        }
        return new AgentSpec(name, description == null ? "" : description, prompt, dependsOn,
                model == null ? null : model.strip());
    }

    private static String string(JsonObject object, String key, boolean required) {
        JsonValue value = object.get(key);
        if (value == null || value.getValueType() == JsonValue.ValueType.NULL) {
            if (required) {
                throw new RosterException("an agent object needs " + key);
            }
            return null;
        }
        if (!(value instanceof JsonString s)) {
            throw new RosterException(key + " of an agent must be a string");
        }
        return s.getString();
    }

    /** Every dependency names an agent of the list, none its own; no cycle. */
    private static void checkGraph(List<AgentSpec> specs) {
        Set<String> names = new HashSet<>();
        for (AgentSpec spec : specs) {
            if (!names.add(spec.name())) {
                throw new RosterException("agent " + spec.name() + " is named twice");
            }
        }
        for (AgentSpec spec : specs) {
            for (String dep : spec.dependsOn()) {
                if (dep.equals(spec.name())) {
                    throw new RosterException("agent " + spec.name() + " depends on itself");
                }
                if (!names.contains(dep)) {
                    throw new RosterException("agent " + spec.name() + " depends on " + quoted(dep)
                            + ", which is not in the run");
                }
            }
        }
        if (order(specs).size() != specs.size()) {
            throw new RosterException("the agents' dependencies form a cycle");
        }
    }

    /**
     * Kahn's algorithm, stable: repeatedly takes the first agent, in the given order, whose dependencies are all
     * taken. Agents on a cycle are left out (the caller detects it by the size).
     */
    private static List<AgentSpec> order(List<AgentSpec> specs) {
        List<AgentSpec> result = new ArrayList<>(specs.size());
        Set<String> done = new HashSet<>();
        Map<String, Boolean> taken = new HashMap<>();
        boolean progress = true;
        while (progress && result.size() < specs.size()) {
            progress = false;
            for (AgentSpec spec : specs) {
                if (!taken.containsKey(spec.name()) && done.containsAll(spec.dependsOn())) {
                    taken.put(spec.name(), true);
                    done.add(spec.name());
                    result.add(spec);
                    progress = true;
                    break;
                }
            }
        }
        return result;
    }

    private static String quoted(String s) {
        String shown = s.length() > MAX_NAME ? s.substring(0, MAX_NAME) + "…" : s;
        return "\"" + shown + "\"";
    }
}
