package io.sluice.agents.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonValue;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Selection and validation of a run's agents. */
class RosterTest {

    private static JsonValue json(String s) {
        return Json.createReader(new StringReader(s)).readValue();
    }

    private static List<String> names(List<AgentSpec> specs) {
        return specs.stream().map(AgentSpec::name).toList();
    }

    @Test
    void anAgentMayNameItsOwnModelWhichItsRequestAsksInsteadOfTheRuns() {
        Roster roster = Roster.parse(json("[{\"name\":\"a\",\"systemPrompt\":\"p\",\"model\":\"thinking\"},"
                + "{\"name\":\"b\",\"systemPrompt\":\"q\",\"dependsOn\":[\"a\"]}]"));
        List<AgentSpec> specs = roster.select(json("[\"a\",\"b\"]"), 8);
        assertEquals("thinking", specs.get(0).model(), "a roster agent keeps its model when named");
        assertEquals(null, specs.get(1).model());
        assertEquals("thinking", AgentPrompts.request("fast", specs.get(0), "t", List.of()).model());
        assertEquals("fast", AgentPrompts.request("fast", specs.get(1), "t", List.of()).model());
        assertThrows(RosterException.class, () -> Roster.parse(json(
                "[{\"name\":\"a\",\"systemPrompt\":\"p\",\"model\":\" \"}]")));
    }

    @Test
    void theDefaultRosterIsPlannerThenResearcherAndCriticThenWriter() {
        List<AgentSpec> all = Roster.defaults().select(null, 8);
        assertEquals(List.of("planner", "researcher", "critic", "writer"), names(all));
        assertEquals(List.of(), all.get(0).dependsOn());
        assertEquals(List.of("planner"), all.get(1).dependsOn());
        assertEquals(List.of("planner"), all.get(2).dependsOn());
        assertEquals(List.of("researcher", "critic"), all.get(3).dependsOn());
        assertEquals(names(all), names(Roster.defaults().select(JsonValue.NULL, 8)));
    }

    @Test
    void aNamedAgentReadsTheNearestSelectedAgentsUpstream() {
        List<AgentSpec> two = Roster.defaults().select(json("[\"writer\",\"planner\"]"), 8);
        assertEquals(List.of("planner", "writer"), names(two), "ordered by dependency");
        assertEquals(List.of("planner"), two.get(1).dependsOn());
        List<AgentSpec> three = Roster.defaults().select(json("[\"planner\",\"critic\",\"writer\"]"), 8);
        assertEquals(List.of("critic", "planner"), three.get(2).dependsOn(),
                "the writer reads the plan in place of the missing researcher");
        List<AgentSpec> alone = Roster.defaults().select(json("[\"writer\"]"), 8);
        assertEquals(List.of(), alone.get(0).dependsOn());
    }

    @Test
    void customAgentsMixWithNamedOnes() {
        List<AgentSpec> specs = Roster.defaults().select(json("[\"planner\", {\"name\":\"poet\","
                + "\"systemPrompt\":\"Write a haiku about the plan.\",\"dependsOn\":[\"planner\"]}]"), 8);
        assertEquals(List.of("planner", "poet"), names(specs));
        assertEquals(List.of("planner"), specs.get(1).dependsOn());
        assertEquals("Write a haiku about the plan.", specs.get(1).systemPrompt());
    }

    @Test
    void invalidSelectionsAreRefusedWithAReason() {
        Roster roster = Roster.defaults();
        assertMessage("unknown agent", () -> roster.select(json("[\"wizard\"]"), 8));
        assertMessage("named twice", () -> roster.select(json("[\"planner\",\"planner\"]"), 8));
        assertMessage("at least one", () -> roster.select(json("[]"), 8));
        assertMessage("at most 2", () -> roster.select(json("[\"planner\",\"critic\",\"writer\"]"), 2));
        assertMessage("must be an array", () -> roster.select(json("\"planner\""), 8));
        assertMessage("name", () -> roster.select(json("[42]"), 8));
        assertMessage("not in the run", () -> roster.select(json(
                "[{\"name\":\"a\",\"systemPrompt\":\"x\",\"dependsOn\":[\"b\"]}]"), 8));
        assertMessage("cycle", () -> roster.select(json("[{\"name\":\"a\",\"systemPrompt\":\"x\",\"dependsOn\":[\"b\"]},"
                + "{\"name\":\"b\",\"systemPrompt\":\"y\",\"dependsOn\":[\"a\"]}]"), 8));
        assertMessage("itself", () -> roster.select(json(
                "[{\"name\":\"a\",\"systemPrompt\":\"x\",\"dependsOn\":[\"a\"]}]"), 8));
        assertMessage("must be 1 to", () -> roster.select(json("[{\"name\":\"Bad Name\",\"systemPrompt\":\"x\"}]"), 8));
        assertMessage("systemPrompt", () -> roster.select(json("[{\"name\":\"a\",\"systemPrompt\":\" \"}]"), 8));
        assertMessage("needs systemPrompt", () -> roster.select(json("[{\"name\":\"a\"}]"), 8));
    }

    @Test
    void aConfiguredRosterIsValidatedAndOrdered() {
        Roster roster = Roster.parse(json("[{\"name\":\"summary\",\"systemPrompt\":\"Sum up.\",\"dependsOn\":[\"notes\"]},"
                + "{\"name\":\"notes\",\"systemPrompt\":\"Take notes.\"}]"));
        assertEquals(List.of("notes", "summary"), names(roster.agents()));
        assertEquals(List.of("notes", "summary"), names(roster.select(json("[\"summary\",\"notes\"]"), 8)));
        assertThrows(RosterException.class, () -> Roster.parse(json("{}")));
        assertThrows(RosterException.class, () -> Roster.parse(json("[]")));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        RosterException e = assertThrows(RosterException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
