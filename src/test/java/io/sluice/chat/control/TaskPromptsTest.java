package io.sluice.chat.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.SimulatedScript;
import io.sluice.streams.control.StreamType;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TaskPromptsTest {

    @Test
    void streamTypesRoundTripTheirWireNames() {
        assertEquals("chat", StreamType.CHAT.wire());
        assertEquals("conversation_title", StreamType.CONVERSATION_TITLE.wire());
        assertEquals("topic_title", StreamType.TOPIC_TITLE.wire());
        assertEquals("prompt_optimization", StreamType.PROMPT_OPTIMIZATION.wire());
        assertEquals("system_prompt", StreamType.SYSTEM_PROMPT.wire());
        for (StreamType type : StreamType.values()) {
            assertEquals(Optional.of(type), StreamType.fromWire(type.wire()));
        }
        assertEquals(Optional.empty(), StreamType.fromWire(null));
        assertEquals(Optional.empty(), StreamType.fromWire("CHAT"));
        assertEquals(Optional.empty(), StreamType.fromWire(" chat"));
        assertEquals(Optional.empty(), StreamType.fromWire("summary"));
    }

    @Test
    void seedTypeNamesAreAliasesOfTheTitleTypesOnly() {
        // API.md section 13: seed 003's StreamType names
        assertEquals(Optional.of(StreamType.CONVERSATION_TITLE), StreamType.named("conversation_title_generation"));
        assertEquals(Optional.of(StreamType.TOPIC_TITLE), StreamType.named("topic_title_generation"));
        for (StreamType type : StreamType.values()) {
            assertEquals(Optional.of(type), StreamType.named(type.wire()), "the wire names stay");
        }
        for (String other : List.of("chat_generation", "prompt_optimization_generation", "system_prompt_generation",
                "generate_generation", "_generation", "generation", "CONVERSATION_TITLE_GENERATION",
                "topic_title_generation ", "topic_title_generation_generation", "title_generation")) {
            assertEquals(Optional.empty(), StreamType.named(other), other);
        }
        assertEquals(Optional.empty(), StreamType.named(null));
    }

    @Test
    void theTopicOfAConversationIsNamedFromItsTitleAndFirstQuestion() {
        assertEquals("Rivers and Valleys\n\nHow do rivers shape valleys?",
                TaskPrompts.topicInput(" Rivers and Valleys ", "How do rivers shape valleys?\n"));
        assertEquals("Rivers and Valleys", TaskPrompts.topicInput("Rivers and Valleys", "  "));
        assertEquals("Rivers and Valleys", TaskPrompts.topicInput("Rivers and Valleys", null));
        assertEquals("How?", TaskPrompts.topicInput(null, "How?"));
        String longQuestion = "q".repeat(TaskPrompts.EXCHANGE_MAX + 50);
        String input = TaskPrompts.topicInput("T", longQuestion);
        assertEquals(2 + 1 + TaskPrompts.EXCHANGE_MAX, input.length(), "the question is shortened like a title's");
        assertTrue(input.endsWith("\u2026"));
        CompletionRequest request = TaskPrompts.topicTitle("m", TaskPrompts.topicInput("Title", "Question"));
        assertEquals("topic_title", request.task());
        assertEquals("Title\n\nQuestion", request.lastUserMessage());
    }

    @Test
    void cleanTopicIsACleanTitleOfAtMostFortyCodeUnits() {
        assertEquals("Geology", TaskPrompts.cleanTopic("**Topic:** \"Geology.\"\nmore"));
        assertEquals("Rivers and Valleys", TaskPrompts.cleanTopic("<think>rivers?</think>\n# Rivers and Valleys"));
        assertNull(TaskPrompts.cleanTopic("  \n**  **"));
        assertNull(TaskPrompts.cleanTopic(null));
        String forty = "a".repeat(TaskPrompts.TOPIC_MAX);
        assertEquals(forty, TaskPrompts.cleanTopic(forty), "exactly the limit stays");
        assertEquals("word ".repeat(8).strip() + "\u2026", TaskPrompts.cleanTopic("word ".repeat(30)),
                "cut at 40 code units, the ellipsis included");
        assertEquals("x".repeat(TaskPrompts.TOPIC_MAX - 2) + "\u2026",
                TaskPrompts.cleanTopic("x".repeat(TaskPrompts.TOPIC_MAX - 2) + "\uD83D\uDE00 tail"),
                "never half a surrogate pair");
    }

    @Test
    void everyRequestCarriesItsTaskASystemPromptAndTheInput() {
        List<CompletionRequest> requests = List.of(
                TaskPrompts.conversationTitle("m", "How do I tune the JVM garbage collector?", "Use G1 and ..."),
                TaskPrompts.topicTitle("m", "Notes on sourdough starters and hydration"),
                TaskPrompts.promptOptimization("m", "write smth about kubernetes pods for my team"),
                TaskPrompts.systemPrompt("m", "Chef Remy", "Helps home cooks plan weekly vegetarian meals"));
        List<StreamType> types = List.of(StreamType.CONVERSATION_TITLE, StreamType.TOPIC_TITLE,
                StreamType.PROMPT_OPTIMIZATION, StreamType.SYSTEM_PROMPT);
        List<String> inputs = List.of("How do I tune the JVM garbage collector?", "sourdough starters",
                "write smth about kubernetes pods for my team", "weekly vegetarian meals");
        for (int i = 0; i < requests.size(); i++) {
            CompletionRequest r = requests.get(i);
            assertEquals(types.get(i).wire(), r.task());
            assertEquals("m", r.model());
            assertTrue(r.systemPrompt() != null && r.systemPrompt().length() > 200, r.systemPrompt());
            assertEquals(1, r.messages().size());
            assertEquals("user", r.messages().get(0).role());
            assertTrue(r.lastUserMessage().contains(inputs.get(i)), r.lastUserMessage());
            assertFalse(r.systemPrompt().contains(inputs.get(i)), "the input stays out of the system prompt");
            // the system prompt goes upstream, the task does not
            String json = r.toOpenAiJson().toString();
            assertTrue(json.contains("\"role\":\"system\""), json);
            assertFalse(json.contains(types.get(i).wire()), json);
        }
        assertTrue(requests.get(0).lastUserMessage().contains("Use G1 and ..."));
        assertTrue(requests.get(3).lastUserMessage().contains("Chef Remy"));
        assertNull(TaskPrompts.topicTitle(null, "x").model());
    }

    @Test
    void systemPromptsStateTheRules() {
        String title = TaskPrompts.conversationTitle(null, "q", null).systemPrompt();
        assertTrue(title.contains("3 to 8 words") && title.contains("same language")
                && title.contains("no quotes") && title.contains("no trailing punctuation"), title);
        assertTrue(TaskPrompts.topicTitle(null, "t").systemPrompt().contains("3 to 8 words"));
        String optimization = TaskPrompts.promptOptimization(null, "d").systemPrompt();
        assertTrue(optimization.contains("intent") && optimization.contains("same language")
                && optimization.contains("Output only the rewritten prompt")
                && optimization.contains("no preamble"), optimization);
        String system = TaskPrompts.systemPrompt(null, null, "d").systemPrompt();
        assertTrue(system.contains("\"You are\"") && system.contains("80 to 200 words")
                && system.contains("tone") && system.contains("constraints")
                && system.contains("Output only the system prompt"), system);
    }

    @Test
    void conversationTitleShortensTheExchangeAndToleratesNoAnswer() {
        String question = "q".repeat(5000);
        String answer = "a".repeat(3000) + "\uD83D\uDE80".repeat(10);
        String user = TaskPrompts.conversationTitle(null, question, answer).lastUserMessage();
        assertTrue(user.contains("<question>\n" + "q".repeat(1999) + "\u2026\n</question>"), user);
        assertTrue(user.contains("<answer>\n" + "a".repeat(1999) + "\u2026\n</answer>"));
        assertTrue(user.length() < 4200, "length " + user.length());

        for (String none : new String[] {null, "", "  \n"}) {
            String only = TaskPrompts.conversationTitle(null, "  What is a monad?  ", none).lastUserMessage();
            assertEquals("<question>\nWhat is a monad?\n</question>", only);
        }
        assertEquals("<question>\n\n</question>", TaskPrompts.conversationTitle(null, null, null).lastUserMessage());
    }

    @Test
    void systemPromptRequestNamesTheAssistantWhenItHasAName() {
        assertEquals("<name>\nAda\n</name>\n\n<description>\nReviews Java code\n</description>",
                TaskPrompts.systemPrompt(null, " Ada ", "Reviews Java code").lastUserMessage());
        for (String none : new String[] {null, "", "   "}) {
            assertEquals("<description>\nReviews Java code\n</description>",
                    TaskPrompts.systemPrompt(null, none, "Reviews Java code").lastUserMessage());
        }
        assertEquals("", TaskPrompts.promptOptimization(null, null).lastUserMessage());
        assertEquals("a draft", TaskPrompts.promptOptimization(null, "  a draft \n").lastUserMessage());
    }

    @Test
    void cleanTitleStripsQuotesLabelsAndMarkdown() {
        assertEquals("Tuning the JVM Garbage Collector", TaskPrompts.cleanTitle("Tuning the JVM Garbage Collector"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\"Tuning the JVM\""));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\u201CTuning the JVM\u201D"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\u2018Tuning the JVM\u2019"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("'Tuning the JVM'"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\u00ABTuning the JVM\u00BB"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("Title: Tuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("title:\"Tuning the JVM\"."));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("**Title:** *Tuning the JVM*"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("Conversation title: Tuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("## Tuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("# \"Tuning the JVM.\""));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("`Tuning the JVM`"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("__Tuning the JVM__"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("- Tuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("Tuning the JVM."));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("  Tuning \t the\u00A0 JVM  "));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\n\n  \nTuning the JVM\nThis title covers..."));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("**Title:**\n\"Tuning the JVM\""));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("<think>short, about the JVM.</think>\nTuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("\"Tuning the JVM"));
    }

    @Test
    void cleanTitleKeepsWhatBelongsToTheTitle() {
        assertEquals("Why Is the Sky Blue?", TaskPrompts.cleanTitle("Why Is the Sky Blue?"));
        assertEquals("Using snake_case in Python", TaskPrompts.cleanTitle("Using snake_case in Python"));
        assertEquals("C# Basics", TaskPrompts.cleanTitle("# C# Basics"));
        assertEquals("Review of \"Dune\"", TaskPrompts.cleanTitle("Review of \"Dune\""));
        assertEquals("\"Dune\" vs \"Foundation\"", TaskPrompts.cleanTitle("\"Dune\" vs \"Foundation\""));
        assertEquals("Rock 'n' Roll History", TaskPrompts.cleanTitle("Rock 'n' Roll History"));
        assertEquals("Students' Study Guide", TaskPrompts.cleanTitle("Students' Study Guide"));
        assertEquals("Kubernetes 入门指南", TaskPrompts.cleanTitle("「Kubernetes 入门指南」。"));
        assertEquals("Titles for Blog Posts", TaskPrompts.cleanTitle("Titles for Blog Posts"));
    }

    @Test
    void cleanTitleCapsLongTitlesWithoutSplittingASurrogatePair() {
        String rocket = "\uD83D\uDE80";
        String words = "Word ".repeat(30).strip();
        String capped = TaskPrompts.cleanTitle(words);
        assertTrue(capped.length() <= 60, capped);
        assertTrue(capped.endsWith("Word\u2026"), capped);
        assertEquals(capped, TaskPrompts.cleanTitle(capped), "idempotent");

        // the 59th and 60th chars are one emoji: it is dropped whole
        String emoji = "a".repeat(58) + rocket + rocket;
        String cut = TaskPrompts.cleanTitle(emoji);
        assertEquals("a".repeat(58) + "\u2026", cut);
        assertFalse(cut.contains("\uD83D"));

        String exact = "a".repeat(57) + rocket + "b"; // 60 code units: not cut
        assertEquals(exact, TaskPrompts.cleanTitle(exact));
        String emojis = TaskPrompts.cleanTitle(rocket.repeat(40));
        assertTrue(emojis.length() <= 60);
        assertEquals(rocket.repeat(29) + "\u2026", emojis);
    }

    @Test
    void cleanTitleIsPlainTextOnOneLine() {
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("[Tuning the JVM](https://example.org/jvm)"));
        assertEquals("Tuning the JVM garbage collector",
                TaskPrompts.cleanTitle("Tuning the ![JVM](x.png) *garbage* ~~collector~~"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("<b>Tuning</b> the <em>JVM</em><br/>"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("> Tuning the JVM"));
        assertEquals("Tuning the JVM", TaskPrompts.cleanTitle("1. Tuning the JVM\n2. Other"));
        assertEquals("Java's List<T> and Map<K, V>", TaskPrompts.cleanTitle("Java's List<T> and Map<K, V>"));
        assertEquals("Some bold text", TaskPrompts.cleanTitle("Some **bold** text\nSecond line"));
        String title = TaskPrompts.cleanTitle("**Title:** A *very* long title about " + "many things ".repeat(10));
        assertTrue(title.length() <= TaskPrompts.TITLE_MAX && !title.contains("*") && !title.contains("\n"), title);
    }

    @Test
    void cleanTitleOfNothingIsNull() {
        for (String raw : new String[] {null, "", "   ", "\n \n\t", "\"\"", "Title:", "**", "# ", "...",
                "\u201C\u201D", "<think>hmm, a title</think>", "<think>still thinking"}) {
            assertNull(TaskPrompts.cleanTitle(raw), "for " + raw);
        }
    }

    @Test
    void theSimulatedModelAnswersTheseRequestsInKind() {
        String model = "simulated";
        CompletionRequest conversation = TaskPrompts.conversationTitle(model,
                "How does garbage collection affect latency in the JVM?",
                "Pauses matter. Consider ZGC, Shenandoah and heap sizing for throughput.");
        String title = SimulatedScript.composeTask(conversation.task(), conversation.lastUserMessage(), model)
                .answerText();
        assertEquals("Garbage Collection and Latency", title);
        assertEquals(title, TaskPrompts.cleanTitle(title));

        CompletionRequest topic = TaskPrompts.topicTitle(model, "Sourdough starters: feeding schedule");
        String topicTitle = SimulatedScript.composeTask(topic.task(), topic.lastUserMessage(), model).answerText();
        assertTrue(topicTitle.startsWith("Sourdough Starters"), topicTitle);
        assertEquals(topicTitle, TaskPrompts.cleanTitle(topicTitle));

        CompletionRequest system = TaskPrompts.systemPrompt(model, "Chef Remy", "Plans vegetarian weekly meals");
        String prompt = SimulatedScript.composeTask(system.task(), system.lastUserMessage(), model).answerText();
        assertTrue(prompt.startsWith("You are Chef Remy, "), prompt);
        assertTrue(prompt.contains("vegetarian"), prompt);
        assertFalse(prompt.contains("<description>") || prompt.contains("description"), prompt);

        CompletionRequest draft = TaskPrompts.promptOptimization(model, "explain kubernetes pods to my team");
        String optimized = SimulatedScript.composeTask(draft.task(), draft.lastUserMessage(), model).answerText();
        assertTrue(optimized.contains("kubernetes pods"), optimized);
    }
}
