package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SimulatedScriptTest {

    private static final String[] TOPICS = {
        "garbage", "collection", "kubernetes", "sorting", "recursion", "latency", "database", "indexes",
        "photosynthesis", "mortgage", "gardening", "tomatoes", "streaming", "backpressure", "caching", "poetry"
    };
    private static final String[] FRAMES = {
        "How does %s relate to %s?",
        "Explain %s and %s to a beginner",
        "What are the pros and cons of %s versus %s in practice",
        "Write a python function for %s with %s",
        "I get an error with %s in my %s code, why?",
        "%s %s",
        "Tell me everything about %s. Also, how is %s used in industry, and what should I watch out for?"
    };

    private static List<String> prompts() {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < TOPICS.length; i++) {
            for (int f = 0; f < FRAMES.length; f++) {
                prompts.add(String.format(FRAMES[f], TOPICS[i], TOPICS[(i * 7 + f + 1) % TOPICS.length]));
            }
        }
        prompts.add("why?");
        prompts.add("ok");
        prompts.add("sql api bug");
        prompts.add("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
                + "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.");
        prompts.add("请解释一下量子计算 🚀 and the 👨‍👩‍👧 family emoji in javascript");
        return prompts;
    }

    private static int words(String text) {
        String t = text.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    @Test
    void sameInputsGiveTheSameScript() {
        for (String p : prompts()) {
            var a = SimulatedScript.compose(p, "You are a pirate", "sim-think");
            var b = SimulatedScript.compose(p, "You are a pirate", "sim-think");
            assertEquals(a, b);
            assertEquals(a.answerText(), SimulatedScript.compose(p, "You are a pirate", "sim-think").answerText());
        }
    }

    @Test
    void differentPromptsReadDifferently() {
        Set<String> openings = new HashSet<>();
        for (String p : prompts()) {
            String text = SimulatedScript.compose(p, null, "simulated").answerText();
            openings.add(text.substring(0, text.indexOf("\n")).replaceAll("[^ ]*[a-z]{4,}[^ ]*$", ""));
            String second = text.split("\n\n")[1];
            openings.add(second.substring(0, Math.min(12, second.length())));
        }
        assertTrue(openings.size() >= 6, "templates vary: " + openings);
    }

    @Test
    void tokensConcatenateToTheText() {
        for (String p : prompts()) {
            var s = SimulatedScript.compose(p, "Be terse.\n\tAnswer as a tutor.", "deepseek-r1");
            assertEquals(s.answerText(), String.join("", s.answer()));
            assertEquals(SimulatedScript.tokenize(s.answerText()), s.answer());
            assertEquals(SimulatedScript.tokenize(s.reasoningText()), s.reasoning());
            for (String token : s.answer()) {
                assertFalse(token.isEmpty());
                // one word per token: whitespace only leads (or the token is all line breaks)
                assertFalse(token.strip().matches("(?s).*\\s.*"), "token " + token);
            }
        }
        String odd = "  leading\n\n\r\n trailing  \t x,y. supercalifragilisticexpialidocious\n";
        assertEquals(odd, String.join("", SimulatedScript.tokenize(odd)));
        assertTrue(SimulatedScript.tokenize(odd).contains("\n\n\r\n"));
        assertEquals(List.of("Hello,", " world!", "\n", " ok"), SimulatedScript.tokenize("Hello, world!\n ok"));
        assertEquals(List.of(), SimulatedScript.tokenize(""));
        assertEquals(List.of(), SimulatedScript.tokenize(null));
    }

    @Test
    void answerNamesTheKeywordsAndQuotesThePromptOnce() {
        String prompt = "How does garbage collection affect latency in the JVM?";
        String text = SimulatedScript.compose(prompt, null, "simulated").answerText();
        for (String k : List.of("garbage", "collection", "latency")) {
            assertTrue(text.contains(k), k);
            // outside the quotation too
            assertTrue(text.replace(prompt, "").contains(k), k);
        }
        assertEquals(List.of("garbage", "collection", "latency"), SimulatedScript.keywords(prompt));
        assertEquals(List.of("garbage collection", "latency"), SimulatedScript.terms(prompt));
        assertTrue(text.contains("garbage collection and latency"), text);
        assertEquals(List.of("Docker", "containers", "kubernetes", "pods"),
                SimulatedScript.keywords("Why do my Docker containers and the kubernetes pods keep restarting?"));
        assertEquals(1, count(text, "\u201c" + prompt + "\u201d"));
        assertTrue(text.startsWith("## "), text);
        assertTrue(text.contains("\n- "), "bullet list");
        assertTrue(text.toLowerCase().contains("simulated"), "says it is simulated");
        assertTrue(text.contains("Sluice"));
        assertFalse(text.contains("```"), "no code block without code words");
    }

    @Test
    void longPromptIsQuotedShortened() {
        String prompt = "   " + "word ".repeat(40) + "  ";
        String text = SimulatedScript.compose(prompt, null, null).answerText();
        int open = text.indexOf('\u201c');
        int close = text.indexOf('\u201d', open);
        String quote = text.substring(open + 1, close);
        assertTrue(quote.length() <= 80, quote);
        assertTrue(quote.endsWith("\u2026"), quote);
        assertTrue(quote.startsWith("word word"), quote);

        String emoji = "\uD83D\uDE80".repeat(60);
        String shortened = SimulatedScript.shorten(emoji, 80);
        assertTrue(shortened.length() <= 80);
        assertFalse(Character.isHighSurrogate(shortened.charAt(shortened.length() - 2)));
    }

    @Test
    void codeBlockWhenTheQuestionIsAboutCode() {
        String text = SimulatedScript.compose("Why does my python script throw an error?", null, "x").answerText();
        assertTrue(text.contains("```python\n"), text);
        assertEquals(2, count(text, "```"));
        assertTrue(SimulatedScript.compose("Write a SQL query for monthly revenue", null, "x").answerText()
                .contains("```sql\n"));
        assertTrue(SimulatedScript.compose("a Java function to parse dates", null, "x").answerText()
                .contains("```java\n"));
        assertTrue(SimulatedScript.compose("fix this bug", null, "x").answerText().contains("```"));
        assertFalse(SimulatedScript.compose("the history of the Roman empire", null, "x").answerText()
                .contains("```"));
    }

    @Test
    void reasoningOnlyForReasoningModels() {
        assertTrue(SimulatedScript.wantsReasoning("deepseek-R1"));
        assertTrue(SimulatedScript.wantsReasoning("sim-Reasoner"));
        assertTrue(SimulatedScript.wantsReasoning("claude-THINKING"));
        assertFalse(SimulatedScript.wantsReasoning("gpt-4o"));
        assertFalse(SimulatedScript.wantsReasoning("simulated"));
        assertFalse(SimulatedScript.wantsReasoning(null));

        String prompt = "Compare kubernetes and nomad schedulers";
        var plain = SimulatedScript.compose(prompt, null, "simulated");
        assertTrue(plain.reasoning().isEmpty());
        assertEquals("", plain.reasoningText());
        var thinking = SimulatedScript.compose(prompt, null, "simulated-think");
        assertFalse(thinking.reasoning().isEmpty());
        assertTrue(thinking.reasoningText().contains("kubernetes"));
        assertTrue(thinking.reasoningText().contains("nomad"));
        assertFalse(thinking.reasoningText().contains("\n"), "plain text");
        assertEquals(plain.answer(), thinking.answer(), "the model name only adds reasoning");
    }

    @Test
    void emptyPromptGetsAGenericAnswer() {
        for (String p : new String[] {null, "", "   \n\t "}) {
            var s = SimulatedScript.compose(p, null, "r1");
            String text = s.answerText();
            assertTrue(text.startsWith("## "), text);
            assertFalse(text.contains("\u201c"), "nothing to quote");
            assertTrue(text.contains("\n- "));
            int n = words(text);
            assertTrue(n >= 100 && n <= 300, "words " + n);
            int r = words(s.reasoningText());
            assertTrue(r >= 40 && r <= 90, "reasoning words " + r);
        }
        assertEquals(SimulatedScript.compose(null, null, null), SimulatedScript.compose("", null, null));
    }

    @Test
    void greetingGetsAShortFriendlyAnswer() {
        for (String p : List.of("hello", "Hi!", "hey there", "Good morning everyone")) {
            var s = SimulatedScript.compose(p, null, "think");
            String text = s.answerText();
            String[] paragraphs = text.split("\n\n");
            assertEquals(3, paragraphs.length, "two paragraphs and the simulated note: " + text);
            assertTrue(paragraphs[0].contains("\u201c" + p + "\u201d"));
            assertTrue(paragraphs[2].toLowerCase().contains("simulated"));
            assertFalse(text.contains("\n- "));
            int n = words(text);
            assertTrue(n >= 50 && n <= 150, "words " + n);
            int r = words(s.reasoningText());
            assertTrue(r >= 40 && r <= 90, "reasoning words " + r);
        }
        assertFalse(SimulatedScript.compose("hello, how do I configure nginx?", null, null).answerText()
                .startsWith("Hello!"));
    }

    @Test
    void systemPromptColoursTheAnswer() {
        String system = "You are a cheerful pirate who explains databases with nautical metaphors, always.";
        String text = SimulatedScript.compose("What is an index?", system, null).answerText();
        String expected = SimulatedScript.shorten(system, 60);
        assertTrue(expected.length() <= 60);
        assertEquals(1, count(text, expected), text);
        assertFalse(SimulatedScript.compose("What is an index?", "  ", null).answerText().contains("\u201c \u201d"));
        assertNotEquals(text, SimulatedScript.compose("What is an index?", null, null).answerText());
        assertTrue(SimulatedScript.compose("hi", system, null).answerText().contains(expected));
    }

    @Test
    void emojiAndCjkAreNeverSplitInsideASurrogatePair() {
        String prompt = "请解释一下量子计算。🚀👍🏽 and the 👨‍👩‍👧 family 🇫🇷 flag, e\u0301, 日本語のテキスト";
        var s = SimulatedScript.compose(prompt, "システム 🤖", "think-r1");
        for (List<String> tokens : List.of(s.answer(), s.reasoning(), SimulatedScript.tokenize(prompt))) {
            String joined = String.join("", tokens);
            for (String token : tokens) {
                assertFalse(Character.isLowSurrogate(token.charAt(0)), "starts with low surrogate: " + token);
                assertFalse(Character.isHighSurrogate(token.charAt(token.length() - 1)), "ends high: " + token);
                assertFalse(token.charAt(0) == '\u200D' || token.charAt(0) == '\u0301'
                        || (token.codePointAt(0) >= 0x1F3FB && token.codePointAt(0) <= 0x1F3FF), token);
            }
            assertEquals(joined, String.join("", SimulatedScript.tokenize(joined)));
        }
        assertTrue(s.answerText().contains(SimulatedScript.shorten(prompt, 80)));
        List<String> tokens = SimulatedScript.tokenize(prompt);
        assertTrue(tokens.contains(" \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67"), tokens.toString());
        assertTrue(tokens.contains(" \uD83C\uDDEB\uD83C\uDDF7"), tokens.toString());
        assertTrue(tokens.contains("\uD83D\uDC4D\uD83C\uDFFD"), tokens.toString());
        assertTrue(tokens.contains("请"), tokens.toString());
        assertTrue(tokens.contains("算。"), tokens.toString());
        assertTrue(tokens.contains(" e\u0301,"), tokens.toString());
    }

    @Test
    void wordCountsStayInRange() {
        String[] systems = {null, "You are a concise assistant who answers in plain English for engineers."};
        String[] models = {"simulated", "simulated-reasoning"};
        for (String p : prompts()) {
            for (String sys : systems) {
                for (String model : models) {
                    var s = SimulatedScript.compose(p, sys, model);
                    int n = words(s.answerText());
                    assertTrue(n >= 120 && n <= 300, n + " words for " + p);
                    if (SimulatedScript.wantsReasoning(model)) {
                        int r = words(s.reasoningText());
                        assertTrue(r >= 40 && r <= 90, r + " reasoning words for " + p);
                    }
                    String text = s.answerText();
                    int paragraphs = text.split("\n\n").length;
                    assertTrue(paragraphs >= 5, text);
                }
            }
        }
    }

    @Test
    void scriptListsAreImmutable() {
        var s = SimulatedScript.compose("immutable lists please", null, "think");
        assertThrows(UnsupportedOperationException.class, () -> s.answer().add("x"));
        assertThrows(UnsupportedOperationException.class, () -> s.reasoning().clear());
    }

    // ------------------------------------------------------------------------------------------------ typed tasks

    private static final List<String> TASKS =
            List.of("conversation_title", "topic_title", "prompt_optimization", "system_prompt");

    @Test
    void composeTaskIsDeterministic() {
        for (String task : TASKS) {
            for (String p : prompts()) {
                var a = SimulatedScript.composeTask(task, p, "simulated-think");
                assertEquals(a, SimulatedScript.composeTask(task, p, "simulated-think"));
                assertEquals(a.answerText(), String.join("", a.answer()));
                assertEquals(SimulatedScript.tokenize(a.answerText()), a.answer());
                assertFalse(a.reasoning().isEmpty(), "a reasoning model reasons");
                var plain = SimulatedScript.composeTask(task, p, "simulated");
                assertTrue(plain.reasoning().isEmpty(), "no reasoning unless the model asks");
                assertEquals(a.answer(), plain.answer(), "the model name only adds reasoning");
                assertFalse(plain.answerText().toLowerCase().contains("simulated"), "output in kind, no note");
            }
        }
    }

    @Test
    void titlesAreTwoToSixTitleCaseWordsThatNeedNoCleaning() {
        List<String> inputs = new ArrayList<>(prompts());
        inputs.addAll(List.of("", "   ", "ok", "kubernetes", "iPhone battery", "x".repeat(200),
                "Supercalifragilisticexpialidocious antidisestablishmentarianism internationalization "
                        + "electroencephalography, incomprehensibilities"));
        Set<String> titles = new HashSet<>();
        for (String task : List.of("conversation_title", "topic_title")) {
            for (String p : inputs) {
                String title = SimulatedScript.composeTask(task, p, null).answerText();
                titles.add(title);
                int n = words(title);
                assertTrue(n >= 2 && n <= 6, n + " words: " + title);
                assertEquals(title, io.sluice.chat.control.TaskPrompts.cleanTitle(title), "clean: " + title);
                for (String word : title.split(" ")) {
                    boolean mixedCase = word.substring(1).chars().anyMatch(Character::isUpperCase); // "iPhone"
                    if (!word.equals("and") && !mixedCase) {
                        assertFalse(Character.isLowerCase(word.codePointAt(0)), "Title Case: " + title);
                    }
                }
            }
        }
        assertTrue(titles.size() > 50, "titles vary: " + titles.size());
        assertEquals("Garbage Collection and Latency",
                SimulatedScript.composeTask("topic_title", "How does garbage collection affect latency?", null)
                        .answerText());
        assertEquals("iPhone Battery", SimulatedScript.composeTask("topic_title", "iPhone battery", null).answerText());
        assertTrue(SimulatedScript.composeTask("topic_title", "kubernetes", null).answerText()
                .startsWith("Kubernetes "));
    }

    @Test
    void conversationTitleComesFromTheQuestion() {
        String input = "<question>\nHow do I bake sourdough bread?\n</question>\n\n"
                + "<answer>\nKnead the dough, proof it overnight, then bake in a Dutch oven.\n</answer>";
        String title = SimulatedScript.composeTask("conversation_title", input, null).answerText();
        assertEquals("Bake Sourdough Bread", title);
        assertFalse(title.contains("Question") || title.contains("Knead"), title);
        // without tags the whole input counts
        assertEquals(title, SimulatedScript.composeTask("conversation_title", "How do I bake sourdough bread?", null)
                .answerText());
    }

    @Test
    void optimizedPromptRestatesTheDraftWithConstraints() {
        String draft = "write smth about garbage collection in java for my blog";
        String text = SimulatedScript.composeTask("prompt_optimization", draft, null).answerText();
        for (String k : SimulatedScript.keywords(draft)) {
            assertTrue(text.contains(k), k + " in " + text);
        }
        assertEquals(List.of("smth", "garbage", "collection", "java"), SimulatedScript.keywords(draft));
        String[] parts = text.split("\n\n");
        assertEquals(2, parts.length, text);
        assertFalse(parts[0].startsWith("-") || parts[0].startsWith("#"), "an instruction first");
        String[] lines = parts[1].split("\n");
        long bullets = java.util.Arrays.stream(lines).filter(l -> l.startsWith("- ")).count();
        assertTrue(bullets >= 3 && bullets <= 4, text);
        for (String aspect : List.of("Audience:", "Format:", "Length:", "Avoid:")) {
            assertTrue(text.contains("- " + aspect), aspect + " in " + text);
        }
        assertTrue(text.contains("runnable code example"), "java is code: " + text);
        assertFalse(text.contains("{"), "templates filled: " + text);
        for (String p : prompts()) {
            String t = SimulatedScript.composeTask("prompt_optimization", p, null).answerText();
            assertFalse(t.contains("{") && !p.contains("{"), t);
            assertTrue(words(t) >= 40 && words(t) <= 150, words(t) + " words: " + t);
        }
        String empty = SimulatedScript.composeTask("prompt_optimization", "", null).answerText();
        assertTrue(empty.contains("[describe the task"), empty);
        assertTrue(empty.contains("- Length:"), empty);
    }

    @Test
    void systemPromptStartsWithYouAre() {
        String named = SimulatedScript.composeTask("system_prompt",
                "<name>\nChef Remy\n</name>\n\n<description>\nHelps home cooks plan vegetarian meals on a budget"
                        + "\n</description>", null).answerText();
        assertTrue(named.startsWith("You are Chef Remy, an assistant"), named);
        assertTrue(named.contains("home cooks") && named.contains("vegetarian"), named);
        assertFalse(named.contains("Helps"), "generic assistant words are no keywords: " + named);
        assertFalse(named.contains("<") || named.contains("{"), named);

        String unnamed = SimulatedScript.composeTask("system_prompt",
                "<description>\nReviews pull requests for security issues\n</description>", null).answerText();
        assertTrue(unnamed.startsWith("You are an assistant"), unnamed);
        assertTrue(unnamed.contains("security"), unnamed);
        assertTrue(SimulatedScript.composeTask("system_prompt", "Reviews SQL migrations", null).answerText()
                .startsWith("You are an assistant that helps users with"));

        List<String> inputs = new ArrayList<>(prompts());
        inputs.addAll(List.of("", "<name>\nX\n</name>", "<name>\n" + "Very Long Name ".repeat(20) + "\n</name>"));
        for (String p : inputs) {
            String text = SimulatedScript.composeTask("system_prompt", p, "r1").answerText();
            assertTrue(text.startsWith("You are "), text);
            int n = words(text);
            assertTrue(n >= 90 && n <= 150, n + " words: " + text);
            assertFalse(text.contains("{"), text);
        }
    }

    @Test
    void otherTasksGetTheChatAnswer() {
        String p = "How does garbage collection affect latency in the JVM?";
        assertEquals(SimulatedScript.compose(p, null, "think"), SimulatedScript.composeTask("chat", p, "think"));
        assertEquals(SimulatedScript.compose(p, null, "x"), SimulatedScript.composeTask(null, p, "x"));
        assertEquals(SimulatedScript.compose(p, null, "x"), SimulatedScript.composeTask("summary", p, "x"));
        assertEquals(SimulatedScript.composeTask("topic_title", "", null),
                SimulatedScript.composeTask("topic_title", null, null));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
