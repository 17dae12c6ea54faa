package io.sluice.providers.control;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The script of Sluice's built-in "simulated" model, used when no upstream model is configured or a request
 * names a {@code simulated} model.
 *
 * <p>Given the conversation's last user message, an optional system prompt and the model name, {@link #compose}
 * writes what the model "says": a Markdown answer of roughly 120-300 words (a heading naming the topic, two or three
 * paragraphs, a bullet list, a fenced code block when the prompt is about code, and a closing italic line saying
 * that the reply is simulated), plus 40-90 words of plain-text reasoning when the model name asks for it. A
 * greeting-only prompt ("hello", "hi there") gets a shorter friendly answer of two paragraphs.
 *
 * <p>Both texts come already split into stream tokens ({@link #tokenize}): a word with its leading whitespace,
 * punctuation attached, runs of line breaks on their own, CJK characters and emoji one per token. A streaming
 * provider emits them one at a time; the pacing is done elsewhere.
 *
 * <p>Everything is deterministic: no network, no clock and no unseeded randomness. Every choice among templates is
 * derived from {@link String#hashCode()} of the prompt, so the same inputs always give the same script, while
 * different prompts read differently. The class is stateless and thread-safe.
 */
public final class SimulatedScript {

    /** Longest quotation of the user's prompt, in UTF-16 chars, ellipsis included. */
    static final int PROMPT_QUOTE_MAX = 80;
    /** Longest quotation of the system prompt, in UTF-16 chars, ellipsis included. */
    static final int SYSTEM_QUOTE_MAX = 60;
    /** Most keywords taken from the prompt. */
    static final int MAX_KEYWORDS = 4;
    /** Most code points of a keyword (longer runs, e.g. unspaced CJK text, are cut). */
    private static final int MAX_KEYWORD_LENGTH = 20;
    /** Most code points of visible text in one token before a long run is split. */
    private static final int MAX_TOKEN_LENGTH = 16;

    private static final String ELLIPSIS = "\u2026";
    private static final String OPEN_QUOTE = "\u201c";
    private static final String CLOSE_QUOTE = "\u201d";

    private static final Set<String> STOP_WORDS = Set.of(
            "about", "above", "after", "again", "also", "another", "anything", "around", "because", "been", "before",
            "being", "below", "best", "better", "between", "both", "cannot", "come", "could", "describe", "does",
            "doing", "done", "down", "during", "each", "else", "even", "every", "example", "explain", "find", "from",
            "give", "going", "good", "have", "having", "hello", "help", "here", "into", "just", "know", "like",
            "made", "make", "many", "maybe", "more", "most", "much", "must", "need", "needs", "only", "other",
            "over", "please", "really", "same", "should", "show", "some", "something", "such", "tell", "than",
            "thank", "thanks", "that", "their", "them", "then", "there", "these", "they", "thing", "things",
            "think", "this", "those", "through", "under", "until", "upon", "used", "using", "very", "want", "wants",
            "well", "were", "what", "when", "where", "whether", "which", "while", "will", "with", "within",
            "without", "work", "works", "would", "write", "your", "yours", "yourself",
            "affect", "affects", "cause", "causes", "happen", "happens", "mean", "means", "take", "takes", "keep",
            "throw", "throws", "seem", "seems", "getting", "doesn", "didn", "isn", "aren", "wasn", "couldn",
            "shouldn", "wouldn", "haven");

    private static final Set<String> CODE_WORDS = Set.of(
            "code", "codes", "coding", "function", "functions", "java", "python", "sql", "script", "scripts",
            "bug", "bugs", "error", "errors", "api", "apis", "javascript", "typescript", "debug");

    private static final Set<String> GREETING_WORDS = Set.of(
            "hello", "hi", "hey", "hiya", "howdy", "greetings", "hallo", "hola", "bonjour", "ciao", "salut", "yo",
            "morning", "afternoon", "evening");
    private static final Set<String> GREETING_FILLERS = Set.of(
            "good", "there", "everyone", "all", "you", "friend", "again", "sluice", "bot", "assistant");

    private static final List<String> FILLERS =
            List.of("the core question", "the surrounding context", "the practical details", "the next steps");

    private static final List<String> HEADINGS = List.of(
            "## {Topic}: an overview",
            "## Notes on {topic}",
            "## Understanding {topic}",
            "## {Topic}, step by step",
            "## A practical look at {topic}");

    private static final List<String> GENERIC_HEADINGS = List.of(
            "## A few general thoughts",
            "## Getting started",
            "## Where to begin");

    private static final List<String> OPENINGS = List.of(
            "You asked: {quote}. That is a good question, and the short answer is that it depends on how {t1} fits "
                    + "into what you are building. Below I walk through the main ideas, starting with {t1} and "
                    + "then moving on to {t2}.",
            "Let's unpack {quote}. The heart of the matter is {t1}; once that is clear, {t2} and {t3} follow "
                    + "naturally. I will keep things concrete and point out the places where people usually get "
                    + "stuck.",
            "Thanks for the question: {quote}. There are a few angles here, and the most useful one to start with "
                    + "is {t1}. After that it helps to look at {t2}, because the two influence each other more than "
                    + "it first seems.",
            "Here is my take on {quote}. In short, {t1} is the piece that matters most, but it only makes sense "
                    + "alongside {t2}. I will go through both, then finish with a few points you can act on.");

    private static final String EMPTY_OPENING =
            "Your message came through without any text, so there is no specific question to answer yet. That is "
                    + "perfectly fine: here is a general outline of how I can help, and you can follow up with "
                    + "details whenever you are ready.";

    private static final List<String> MIDDLES = List.of(
            "A good first step is to pin down what {t1} means in your situation. Definitions vary between teams "
                    + "and tools, and a lot of confusion disappears once everyone agrees on the terms. From there, "
                    + "look at how {t2} is handled today and what would change if you adjusted it.",
            "It also helps to think about {t2} in terms of trade-offs rather than right and wrong answers. Simpler "
                    + "approaches are easier to maintain, while more elaborate ones can pay off at scale. Try the "
                    + "smallest version that works, measure it, and only then add complexity.",
            "In practice, {t1} and {t3} tend to interact. A change in one usually shows up in the other, so it is "
                    + "worth testing them together instead of in isolation. Keep notes on what you try; the history "
                    + "is often more valuable than any single result.",
            "One common pitfall is to treat {t2} as an afterthought. It is tempting to focus on the obvious part "
                    + "of the problem, but the details around it decide whether the solution holds up. Spend a "
                    + "little time early on the edge cases and you will save a lot later.");

    private static final List<String> CLOSINGS = List.of(
            "To sum up: start with {t1}, keep {t2} in view, and iterate in small steps. If you share more about "
                    + "your setup, I can tailor the advice further.",
            "That should give you a solid starting point. If anything here does not match your situation, tell me "
                    + "more about it and we can refine the approach together.",
            "In short, there is no single correct answer, but the points above cover what matters most. Feel free "
                    + "to follow up with specifics and I will go deeper on any of them.");

    private static final List<String> LEAD_INS = List.of(
            "Key points to keep in mind:",
            "A quick checklist:",
            "Things worth checking:",
            "Practical takeaways:");

    /** Seven templates: any step 1-6 walks through all of them without repeating. */
    private static final List<String> BULLETS = List.of(
            "- **{T}**: start with a clear, written definition of what it should do.",
            "- Check how {t} behaves at the edges: empty input, large input, unusual input.",
            "- Compare two or three ways of handling {t} before committing to one.",
            "- Write down your assumptions about {t} so they can be tested later.",
            "- Keep {t} simple at first and optimise only once you have measurements.",
            "- Ask how {t} will be maintained and explained six months from now.",
            "- Look for existing, well-documented examples of {t} and learn from them.");

    private static final List<String> CODE_INTROS = List.of(
            "Here is a minimal sketch to make this concrete; adapt the names to your own code:",
            "A small example helps; treat it as a starting point rather than a finished solution:",
            "To make it tangible, here is a short snippet you can run and modify:");

    private static final Map<String, String> SNIPPETS = new LinkedHashMap<>();

    static {
        SNIPPETS.put("java", String.join("\n",
                "// Sketch: {code} in a few lines",
                "public static String describe(String input) {",
                "    if (input == null || input.isBlank()) {",
                "        throw new IllegalArgumentException(\"input is required\");",
                "    }",
                "    return \"{code}: \" + input.strip();",
                "}"));
        SNIPPETS.put("python", String.join("\n",
                "# Sketch: {code} in a few lines",
                "def describe(value: str) -> str:",
                "    if not value or not value.strip():",
                "        raise ValueError(\"value is required\")",
                "    return f\"{code}: {value.strip()}\""));
        SNIPPETS.put("javascript", String.join("\n",
                "// Sketch: {code} in a few lines",
                "function describe(value) {",
                "  if (!value || !value.trim()) {",
                "    throw new Error(\"value is required\");",
                "  }",
                "  return `{code}: ${value.trim()}`;",
                "}"));
        SNIPPETS.put("sql", String.join("\n",
                "-- Sketch: {code} in a few lines",
                "SELECT id, name, created_at",
                "FROM items",
                "WHERE name LIKE '%{code}%'",
                "ORDER BY created_at DESC",
                "LIMIT 10;"));
    }

    private static final List<String> PERSONAS = List.of(
            "Keeping to the brief you set ({sys}), I will answer in that spirit.",
            "With your instructions in mind ({sys}), here is my answer.",
            "Following the system prompt ({sys}), I will keep that role in view.");

    private static final List<String> GREETINGS = List.of(
            "Hello! It is nice to hear from you. You said {quote}, so hello right back. I am here whenever you want "
                    + "to ask a question, think through a problem, or get a second opinion on some code.",
            "Hi there, and welcome! You wrote {quote}, which is a perfect way to start. I am happy to help with "
                    + "explanations, drafts, reviews or quick sanity checks, whatever you need today.",
            "Hey! Thanks for saying {quote}. Good to have you here. Whether you are curious about something, stuck "
                    + "on a problem, or just exploring, I am ready when you are.");

    private static final List<String> GREETING_FOLLOW_UPS = List.of(
            "To get going, try asking something specific: how a piece of technology works, how to structure a "
                    + "short document, or why a snippet of code misbehaves. The more context you give, the more "
                    + "useful my answer can be.",
            "A good way to start is with a concrete question. Share a bit of background, say what you have already "
                    + "tried, and tell me what a good answer would look like for you. I will take it from there.");

    private static final List<String> FOOTERS = List.of(
            "*This reply comes from Sluice's built-in simulated model; no upstream model was called.*",
            "*Simulated response: Sluice generated this text locally, without calling a model.*");

    private static final List<String> REASONING_SUBJECTS = List.of(
            "The user is asking about {topic}.",
            "This prompt is about {topic}.",
            "So the question centres on {topic}.");
    private static final List<String> REASONING_APPROACHES = List.of(
            "I should first make clear what {t1} means in their context, then connect it to {t2}.",
            "Best to start from {t1}, since everything else depends on it, and bring in {t2} afterwards.");
    private static final String REASONING_CODE =
            "They mention code, so a short runnable example beats a long explanation.";
    private static final String REASONING_NO_CODE =
            "A concrete example or two would make the explanation easier to follow.";
    private static final List<String> REASONING_PLANS = List.of(
            "Plan: a heading, a couple of short paragraphs, then a checklist of practical points.",
            "Structure it as a brief overview, a practical paragraph and a bullet list, nothing too long.");
    private static final List<String> REASONING_CAVEATS = List.of(
            "I should avoid overclaiming and note any assumptions about {t3}.",
            "Keep the tone plain and friendly, and flag anything about {t3} that depends on their setup.");
    private static final String REASONING_SYSTEM = "A system prompt is set; follow its tone.";
    private static final String REASONING_EMPTY =
            "The message is empty, so there is no specific question to answer. I should not invent one. Best to "
                    + "reply with a short, friendly outline of what I can help with and invite them to share "
                    + "details. Plan: a heading, a couple of short paragraphs, a checklist, and a light note that "
                    + "this reply is simulated.";
    private static final String REASONING_GREETING =
            "This is just a greeting, nothing to solve yet. A warm, short reply is right: say hello back, offer a "
                    + "few examples of what I can help with, and invite a concrete question. Two short paragraphs "
                    + "are enough; no list or code is needed here. Keep it light and friendly.";

    // ------------------------------------------------------------------------------------------- typed tasks

    /** Longest assistant name quoted in a simulated system prompt, in UTF-16 chars, ellipsis included. */
    private static final int NAME_MAX = 40;
    /** Longest simulated title, in UTF-16 chars, ellipsis included: TaskPrompts.TITLE_MAX, as titles are cleaned. */
    static final int TITLE_MAX = 60;

    private static final List<String> TITLE_SUFFIXES = List.of("Basics", "Overview", "Explained", "Essentials");
    private static final List<String> CONVERSATION_FALLBACK_TITLES =
            List.of("New Conversation", "Quick Question", "General Chat");
    private static final List<String> TOPIC_FALLBACK_TITLES =
            List.of("Untitled Topic", "General Notes", "Miscellaneous Notes");

    private static final List<String> OPTIMIZED_INTENTS = List.of(
            "Write a clear, accurate explanation of {topic}. Start with what {t1} is and why it matters, then show "
                    + "how it relates to {t2}, and include one concrete example.",
            "Help me understand {topic}. Give a short overview of {t1}, walk through {t2} step by step, and end "
                    + "with practical recommendations I can apply.",
            "Act as an experienced expert on {t1}. Explain it in practical terms, show how it connects to {t2}, "
                    + "and finish with a clear recommendation and a short justification.");
    private static final String OPTIMIZED_EMPTY_INTENT =
            "Help me with [describe the task in one sentence]. Context: [who it is for, what you already have, "
                    + "and what a good result looks like].";
    private static final List<String> OPTIMIZED_LEAD_INS = List.of("Requirements:", "Constraints:");
    private static final List<String> OPTIMIZED_AUDIENCES = List.of(
            "- Audience: readers new to {t1}; define any jargon the first time it appears.",
            "- Audience: practitioners who already know the basics of {t1}; skip the introductory material.",
            "- Audience: a non-specialist reader; prefer plain language over jargon.");
    private static final List<String> OPTIMIZED_FORMATS = List.of(
            "- Format: a one-paragraph summary, then short sections with descriptive headings and a bullet list "
                    + "of key points.",
            "- Format: numbered steps, each with a one-line explanation, followed by a short summary.",
            "- Format: Markdown with headings; put any comparison in a table.");
    private static final String OPTIMIZED_CODE_FORMAT =
            "- Format: a brief explanation, then a complete, runnable code example with comments, then notes on "
                    + "edge cases.";
    private static final List<String> OPTIMIZED_LENGTHS = List.of(
            "- Length: about 300-500 words.",
            "- Length: under 300 words; be concise.",
            "- Length: at most one page, roughly 600 words.");
    private static final List<String> OPTIMIZED_AVOIDS = List.of(
            "- Avoid: filler, vague generalities and claims you cannot support; say so when something depends on "
                    + "context.",
            "- Avoid: unexplained jargon, repetition and speculation; state any assumptions explicitly.",
            "- Avoid: a generic introduction, marketing language and invented facts or sources.");

    private static final List<String> SYSTEM_GOALS = List.of(
            "Your goal is to give accurate, practical guidance on {t1}, connecting it to {t2} when that helps.",
            "Your job is to help users make progress with {t1}: explain the options and recommend a sensible next "
                    + "step.");
    private static final List<String> SYSTEM_TONES = List.of(
            "Be friendly, clear and patient, and adapt the depth of each answer to the user's experience.",
            "Be professional, concise and precise: lead with the answer, then add only the detail the user needs.");
    private static final String SYSTEM_GUIDELINES = String.join("\n",
            "Guidelines:",
            "- Ask one short clarifying question when a request about {t1} is ambiguous or missing key details.",
            "- Prefer concrete steps and examples over abstract advice.",
            "- Keep answers focused, using short paragraphs and lists.",
            "- Stay within your scope; when a request falls outside {scope}, say so politely and suggest where to "
                    + "look instead.",
            "- Never invent facts, numbers or sources; say when you are unsure and how the user could check.");
    /** Words that describe any assistant rather than its subject ("Helps users with ..."). */
    private static final Set<String> DESCRIPTION_STOP_WORDS = Set.of(
            "assistant", "assistants", "assist", "assists", "helps", "helping", "helper", "helpful", "user",
            "users", "people", "someone", "answers", "answering", "guides", "supports", "bot", "chatbot");
    private static final String SYSTEM_EMPTY_TOPIC = "a wide range of everyday questions";
    private static final List<String> SYSTEM_EMPTY_TERMS =
            List.of("their question", "the context they give", "the practical details");

    private SimulatedScript() {
    }

    /**
     * What the simulated model says, as stream tokens.
     *
     * @param reasoning reasoning tokens, in order (an empty list unless the model name asks for reasoning); their
     *                  concatenation is {@link #reasoningText()}
     * @param answer    answer tokens, in order; their concatenation is {@link #answerText()}, Markdown
     */
    public record Script(List<String> reasoning, List<String> answer) {

        /** Copies both lists into unmodifiable lists; {@code null} becomes an empty list. */
        public Script {
            reasoning = reasoning == null ? List.of() : List.copyOf(reasoning);
            answer = answer == null ? List.of() : List.copyOf(answer);
        }

        /** @return the reasoning tokens joined, the empty string when there is no reasoning */
        public String reasoningText() {
            return String.join("", reasoning);
        }

        /** @return the answer tokens joined: the full Markdown answer */
        public String answerText() {
            return String.join("", answer);
        }
    }

    /**
     * Writes the simulated model's reply. Deterministic: the same arguments always give an equal {@link Script};
     * template choices derive from {@link String#hashCode()} of the prompt.
     *
     * @param prompt       the conversation's last user message; {@code null} or blank gets a generic answer
     * @param systemPrompt the system prompt, or {@code null}; when non-blank, its first 60 chars are acknowledged
     *                     in one sentence
     * @param model        the model name, or {@code null}; decides only whether there is reasoning
     *                     ({@link #wantsReasoning})
     * @return the reasoning tokens (40-90 words, or none) and the answer tokens (Markdown, roughly 120-300 words;
     *         a greeting-only prompt gets a shorter two-paragraph answer)
     */
    public static Script compose(String prompt, String systemPrompt, String model) {
        String text = prompt == null ? "" : prompt;
        int seed = mix(text.hashCode());
        List<String> keywords = terms(text);
        boolean empty = text.isBlank();
        boolean greeting = !empty && isGreeting(text);
        boolean code = !greeting && isAboutCode(text);

        String answer = greeting
                ? greetingAnswer(text, systemPrompt, seed)
                : answer(text, systemPrompt, keywords, code, seed);
        List<String> reasoning = wantsReasoning(model)
                ? tokenize(reasoning(keywords, empty, greeting, code, hasText(systemPrompt), seed))
                : List.of();
        return new Script(reasoning, tokenize(answer));
    }

    /**
     * Writes the simulated model's output for a typed stream (API.md section 3), short and in kind, reading the
     * last user message as {@code TaskPrompts} lays it out. Deterministic, like {@link #compose}; reasoning only
     * when {@link #wantsReasoning} says so.
     * <ul>
     *   <li>{@code conversation_title}: a 2-6 word Title Case title from the keywords of the {@code <question>}
     *       part (the whole input when there are no tags);</li>
     *   <li>{@code topic_title}: the same from the whole input;</li>
     *   <li>{@code prompt_optimization}: a rewritten prompt: an instruction restating the draft's intent with its
     *       keywords, then four bullet constraints (audience, format, length, what to avoid);</li>
     *   <li>{@code system_prompt}: a 90-150 word system prompt starting "You are" and the {@code <name>} part (or
     *       "an assistant"), built from the keywords of the {@code <description>} part (the whole input when
     *       there are no tags).</li>
     *   <li>{@code agent:NAME} (an agent of a multi-agent run, API.md section 5): a short Markdown contribution in
     *       the role of the agent, about the {@code <task>} part: a numbered plan for {@code planner}, findings for
     *       {@code researcher}, a review for {@code critic}, a titled answer for {@code writer}, notes headed with
     *       its name for any other agent.</li>
     * </ul>
     * Any other task ({@code chat}, {@code null}, unknown) gets {@link #compose}{@code (input, null, model)}.
     *
     * @param task  the stream type's wire name, {@code agent:NAME}, or {@code null}
     * @param input the request's last user message, or {@code null}
     * @param model the model name, or {@code null}; decides only whether there is reasoning
     * @return the script; the answer is plain text (no Markdown heading, no simulated-model note)
     */
    public static Script composeTask(String task, String input, String model) {
        String text = input == null ? "" : input;
        if (task == null) {
            return compose(text, null, model);
        }
        int seed = mix(text.hashCode() ^ task.hashCode());
        String answer;
        String reasoning;
        switch (task) {
            case "conversation_title", "topic_title" -> {
                boolean conversation = task.equals("conversation_title");
                String question = conversation ? section(text, "question") : null;
                String source = question != null ? question : text;
                answer = title(source, conversation, seed);
                List<String> terms = terms(source);
                reasoning = "The user wants a short title for " + (conversation ? "this conversation" : "this text")
                        + ". The main subject is " + (terms.isEmpty() ? "not obvious" : phrase(terms))
                        + ". A few words in Title Case, no quotes and no trailing punctuation.";
            }
            case "prompt_optimization" -> {
                answer = optimizedPrompt(text, seed);
                List<String> terms = terms(text);
                reasoning = "This is a draft prompt about " + (terms.isEmpty() ? "nothing specific yet" : phrase(terms))
                        + ". I should keep its intent, make the task explicit, and add constraints for audience, "
                        + "format, length and what to avoid. Output only the rewritten prompt.";
            }
            case "system_prompt" -> {
                String name = section(text, "name");
                String description = section(text, "description");
                if (name == null && description == null) {
                    description = text;
                }
                List<String> terms = descriptionTerms(description);
                answer = systemPrompt(name, terms, seed);
                String who = hasText(name) ? shorten(name, NAME_MAX) : "an assistant";
                reasoning = "They need a system prompt for " + who + " about "
                        + (terms.isEmpty() ? "general questions" : phrase(terms))
                        + ". Second person, starting with You are, then role, tone and a few clear constraints.";
            }
            default -> {
                if (!task.startsWith("agent:")) {
                    return compose(text, null, model);
                }
                String agent = task.substring("agent:".length());
                String subject = section(text, "task");
                List<String> terms = terms(subject != null ? subject : text);
                answer = agentAnswer(agent, terms, seed);
                reasoning = "As the " + agent + " of the team, I look at " + (terms.isEmpty() ? "the task"
                        : phrase(terms)) + " and write only my part, short and concrete, for the next agent.";
            }
        }
        return new Script(wantsReasoning(model) ? tokenize(reasoning) : List.of(), tokenize(answer));
    }

    /**
     * Whether a model name asks for reasoning.
     *
     * @param model the model name, or {@code null}
     * @return {@code true} when the name, ignoring case, contains {@code reason}, {@code think} or {@code r1}
     */
    public static boolean wantsReasoning(String model) {
        if (model == null) {
            return false;
        }
        String m = model.toLowerCase(Locale.ROOT);
        return m.contains("reason") || m.contains("think") || m.contains("r1");
    }

    /**
     * Splits text into stream tokens the way LLMs stream: each token is a run of non-line-break whitespace followed
     * by a word with its punctuation ({@code " word,"}), or a run of line breaks on its own. CJK characters, emoji
     * and similar wide symbols are one token each (a following punctuation mark stays attached), and words longer
     * than 16 code points are split. Tokens never split a surrogate pair, a combining mark, a variation selector or
     * a zero-width-joiner sequence off its base. The concatenation of the tokens equals {@code text} exactly.
     *
     * @param text the text, or {@code null}
     * @return the tokens in order, none empty; an empty list for {@code null} or empty text
     */
    public static List<String> tokenize(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        List<String> tokens = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int visible = 0;          // clusters of visible text in current
        boolean lastWide = false; // whether the last cluster in current was wide
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c == '\n' || c == '\r') {
                flush(tokens, current);
                visible = 0;
                int j = i;
                while (j < n && (text.charAt(j) == '\n' || text.charAt(j) == '\r')) {
                    j++;
                }
                tokens.add(text.substring(i, j));
                i = j;
            } else if (Character.isWhitespace(c)) {
                if (visible > 0) {
                    flush(tokens, current);
                    visible = 0;
                }
                current.append(c);
                i++;
            } else {
                int end = clusterEnd(text, i);
                int cp = text.codePointAt(i);
                boolean wide = isWide(cp);
                boolean split = visible > 0 && (wide
                        || (lastWide && !isPunctuation(cp))
                        || visible >= MAX_TOKEN_LENGTH);
                if (split) {
                    flush(tokens, current);
                    visible = 0;
                }
                current.append(text, i, end);
                visible++;
                lastWide = wide;
                i = end;
            }
        }
        flush(tokens, current);
        return Collections.unmodifiableList(tokens);
    }

    // ---------------------------------------------------------------------------------------------- answer parts

    private static String answer(String prompt, String systemPrompt, List<String> keywords, boolean code, int seed) {
        boolean empty = prompt.isBlank();
        List<String> terms = keywords.isEmpty() ? FILLERS : withFillers(keywords);
        String topic = keywords.isEmpty() ? "" : phrase(keywords);
        String quote = empty ? "" : OPEN_QUOTE + shorten(prompt, PROMPT_QUOTE_MAX) + CLOSE_QUOTE;
        List<String> blocks = new ArrayList<>();

        String heading = keywords.isEmpty() ? pick(GENERIC_HEADINGS, seed, 1) : pick(HEADINGS, seed, 1);
        blocks.add(fill(heading, topic, terms, ""));

        String opening = empty ? EMPTY_OPENING : pick(OPENINGS, seed, 2);
        String persona = persona(systemPrompt, seed);
        blocks.add(persona + fill(opening, topic, terms, quote));

        blocks.add(fill(pick(MIDDLES, seed, 3), topic, terms, ""));

        StringBuilder list = new StringBuilder(pick(LEAD_INS, seed, 4)).append("\n");
        List<String> bulletTerms = keywords.isEmpty() ? FILLERS : keywords;
        int count = 3 + choose(seed, 5, code ? 2 : 3); // 3-5 items, 3-4 next to a code block
        int start = choose(seed, 6, BULLETS.size());
        int step = 1 + choose(seed, 7, BULLETS.size() - 1);
        for (int b = 0; b < count; b++) {
            String template = BULLETS.get((start + b * step) % BULLETS.size());
            String term = bulletTerms.get(b % bulletTerms.size());
            list.append("\n").append(template.replace("{T}", capitalize(term)).replace("{t}", term));
        }
        blocks.add(list.toString());

        if (code) {
            String language = language(prompt, seed);
            String name = keywords.isEmpty() ? "example" : keywords.get(0);
            blocks.add(pick(CODE_INTROS, seed, 8) + "\n\n```" + language + "\n"
                    + SNIPPETS.get(language).replace("{code}", name) + "\n```");
        }

        if (choose(seed, 9, 3) != 0) {
            blocks.add(fill(pick(CLOSINGS, seed, 10), topic, terms, ""));
        }
        blocks.add(pick(FOOTERS, seed, 11));
        return String.join("\n\n", blocks);
    }

    private static String greetingAnswer(String prompt, String systemPrompt, int seed) {
        String quote = OPEN_QUOTE + shorten(prompt, PROMPT_QUOTE_MAX) + CLOSE_QUOTE;
        return persona(systemPrompt, seed) + withQuote(pick(GREETINGS, seed, 12), quote)
                + "\n\n" + pick(GREETING_FOLLOW_UPS, seed, 13)
                + "\n\n" + pick(FOOTERS, seed, 11);
    }

    private static String reasoning(List<String> keywords, boolean empty, boolean greeting, boolean code,
                                    boolean system, int seed) {
        String suffix = system ? " " + REASONING_SYSTEM : "";
        if (empty) {
            return REASONING_EMPTY + suffix;
        }
        if (greeting) {
            return REASONING_GREETING + suffix;
        }
        List<String> terms = keywords.isEmpty() ? FILLERS : withFillers(keywords);
        String topic = keywords.isEmpty() ? "a fairly open question" : phrase(keywords);
        return String.join(" ",
                fill(pick(REASONING_SUBJECTS, seed, 20), topic, terms, ""),
                fill(pick(REASONING_APPROACHES, seed, 21), topic, terms, ""),
                code ? REASONING_CODE : REASONING_NO_CODE,
                pick(REASONING_PLANS, seed, 22),
                fill(pick(REASONING_CAVEATS, seed, 23), topic, terms, "")) + suffix;
    }

    // ----------------------------------------------------------------------------------------- typed task parts

    /** A 2-6 word Title Case title from the keywords, at most {@value #TITLE_MAX} chars. */
    private static String title(String source, boolean conversation, int seed) {
        List<String> terms = new ArrayList<>();
        for (List<String> group : keywordGroups(source)) {
            List<String> words = new ArrayList<>();
            for (String word : group) {
                words.add(titleCase(word));
            }
            terms.add(String.join(" ", words));
        }
        if (terms.isEmpty()) {
            return pick(conversation ? CONVERSATION_FALLBACK_TITLES : TOPIC_FALLBACK_TITLES, seed, 30);
        }
        String title = titleOf(terms, seed);
        while (title.length() > TITLE_MAX && terms.size() > 1) {
            terms.remove(terms.size() - 1);
            title = titleOf(terms, seed);
        }
        return shorten(title, TITLE_MAX);
    }

    /** A lone one-word term gets a suffix ("Kubernetes Basics"); more are joined, three at most ("A, B and C"). */
    private static String titleOf(List<String> terms, int seed) {
        if (terms.size() == 1) {
            String only = terms.get(0);
            return only.contains(" ") ? only : only + " " + pick(TITLE_SUFFIXES, seed, 31);
        }
        return phrase(terms);
    }

    /** The word with its first letter upper case, unless it already has capitals after the first ("iPhone"). */
    private static String titleCase(String word) {
        int first = word.codePointAt(0);
        String rest = word.substring(Character.charCount(first));
        return rest.chars().anyMatch(Character::isUpperCase) ? word : capitalize(word);
    }

    /** An agent's Markdown contribution about the task's terms, in its role (see {@link #composeTask}). */
    private static String agentAnswer(String agent, List<String> keywords, int seed) {
        List<String> terms = keywords.isEmpty() ? FILLERS : withFillers(keywords);
        String topic = keywords.isEmpty() ? "the task" : phrase(keywords);
        String t1 = terms.get(0);
        String t2 = terms.get(1);
        return switch (agent) {
            case "planner" -> "## Plan\n\n"
                    + "1. Pin down what a good answer about " + topic + " must cover, and for whom.\n"
                    + "2. Gather the key facts about " + t1 + ", with one concrete example.\n"
                    + "3. Compare " + t1 + " with " + t2 + " where they meet.\n"
                    + "4. List the risks and open questions.\n"
                    + "5. " + pick(List.of("Write a short, structured answer.", "Write the answer with a summary first.",
                            "Write the answer, ending with next steps."), seed, 50);
            case "researcher" -> "## Findings\n\n"
                    + "- **" + capitalize(t1) + "**: the essentials come first; most questions about it turn on "
                    + "how it behaves under real load.\n"
                    + "- **" + capitalize(t2) + "**: it matters where it touches " + t1 + "; the details decide "
                    + "the trade-off.\n"
                    + "- **Example**: a small, realistic case makes " + topic + " concrete.\n"
                    + "- **Uncertain**: figures vary between sources; treat them as orders of magnitude.";
            case "critic" -> "## Review\n\n"
                    + "- The plan should say how success is measured for " + topic + ".\n"
                    + "- Step 3 risks comparing unlike things; fix the criteria first.\n"
                    + "- Nothing yet covers failure cases of " + t1 + ": add one.\n"
                    + "- " + pick(List.of("Keep the answer short; cut background the user did not ask for.",
                            "Define terms before using them.", "Say what is assumed, so the reader can check it."),
                            seed, 51);
            case "writer" -> "## " + capitalize(topic) + "\n\n"
                    + capitalize(t1) + " is best understood through what it is for: the plan, the research and the "
                    + "review all point to the same essentials. " + capitalize(t2) + " shapes the details, and a "
                    + "small example shows how the two meet in practice.\n\n"
                    + "**In short:** start from the goal, check the failure cases, and measure the result. "
                    + pick(List.of("That is the whole recipe.", "The rest is detail.", "Everything else follows."),
                            seed, 52);
            default -> "## " + capitalize(agent) + "\n\n"
                    + "My part of the work on " + topic + ": the main point is " + t1 + ", and " + t2
                    + " deserves a closer look before the team concludes.";
        };
    }

    private static String optimizedPrompt(String draft, int seed) {
        List<String> keywords = terms(draft);
        boolean code = isAboutCode(draft);
        List<String> terms = keywords.isEmpty() ? List.of("the topic", "its context", "the details")
                : withFillers(keywords);
        String intent = keywords.isEmpty()
                ? OPTIMIZED_EMPTY_INTENT
                : fill(pick(OPTIMIZED_INTENTS, seed, 32), phrase(keywords), terms, "");
        return intent + "\n\n" + pick(OPTIMIZED_LEAD_INS, seed, 33)
                + "\n" + fill(pick(OPTIMIZED_AUDIENCES, seed, 34), "", terms, "")
                + "\n" + (code ? OPTIMIZED_CODE_FORMAT : pick(OPTIMIZED_FORMATS, seed, 35))
                + "\n" + pick(OPTIMIZED_LENGTHS, seed, 36)
                + "\n" + pick(OPTIMIZED_AVOIDS, seed, 37);
    }

    /** The terms of an assistant's description, without words that fit any assistant ("helps", "users"). */
    private static List<String> descriptionTerms(String description) {
        List<String> terms = new ArrayList<>();
        for (List<String> group : keywordGroups(description, DESCRIPTION_STOP_WORDS)) {
            terms.add(String.join(" ", group));
        }
        return terms;
    }

    private static String systemPrompt(String name, List<String> keywords, int seed) {
        boolean empty = keywords.isEmpty();
        String topic = empty ? SYSTEM_EMPTY_TOPIC : phrase(keywords);
        List<String> terms = empty ? SYSTEM_EMPTY_TERMS : withFillers(keywords);
        String role = "an assistant that helps users with " + topic + ".";
        String intro = hasText(name) ? "You are " + shorten(name, NAME_MAX) + ", " + role : "You are " + role;
        String guidelines = fill(SYSTEM_GUIDELINES, topic, terms, "")
                .replace("{scope}", empty ? "what you can help with" : topic);
        return intro + " " + fill(pick(SYSTEM_GOALS, seed, 38), topic, terms, "")
                + "\n\n" + pick(SYSTEM_TONES, seed, 39)
                + "\n\n" + guidelines;
    }

    /**
     * The content of the first {@code <tag>...</tag>} part of the text (to its end when the closing tag is
     * missing), stripped; {@code null} when there is no such part.
     */
    static String section(String text, String tag) {
        String open = "<" + tag + ">";
        int start = text.indexOf(open);
        if (start < 0) {
            return null;
        }
        start += open.length();
        int end = text.indexOf("</" + tag + ">", start);
        return (end < 0 ? text.substring(start) : text.substring(start, end)).strip();
    }

    private static String persona(String systemPrompt, int seed) {
        if (!hasText(systemPrompt)) {
            return "";
        }
        String sys = OPEN_QUOTE + shorten(systemPrompt, SYSTEM_QUOTE_MAX) + CLOSE_QUOTE;
        return pick(PERSONAS, seed, 14).replace("{sys}", sys) + " ";
    }

    private static String language(String prompt, int seed) {
        List<String> words = words(prompt.toLowerCase(Locale.ROOT));
        if (words.contains("python")) {
            return "python";
        }
        if (words.contains("sql")) {
            return "sql";
        }
        if (words.contains("javascript") || words.contains("typescript")) {
            return "javascript";
        }
        if (words.contains("java")) {
            return "java";
        }
        return pick(List.of("java", "python", "javascript"), seed, 15);
    }

    // ----------------------------------------------------------------------------------------------- text analysis

    /**
     * Up to four salient words of the prompt (at least 4 code points, not a stop word, not a number), in order of
     * appearance, deduplicated ignoring case.
     */
    static List<String> keywords(String prompt) {
        List<String> result = new ArrayList<>();
        for (List<String> group : keywordGroups(prompt)) {
            result.addAll(group);
        }
        return result;
    }

    /** The keywords, with those that were adjacent in the prompt joined into one phrase ("garbage collection"). */
    static List<String> terms(String prompt) {
        List<String> result = new ArrayList<>();
        for (List<String> group : keywordGroups(prompt)) {
            result.add(String.join(" ", group));
        }
        return result;
    }

    private static List<List<String>> keywordGroups(String prompt) {
        return keywordGroups(prompt, Set.of());
    }

    /** The keyword groups, also skipping the lower-case words in {@code extraStopWords}. */
    private static List<List<String>> keywordGroups(String prompt, Set<String> extraStopWords) {
        List<List<String>> groups = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        List<String> words = words(prompt == null ? "" : prompt);
        int taken = 0;
        int last = -2;
        for (int i = 0; i < words.size() && taken < MAX_KEYWORDS; i++) {
            String word = words.get(i);
            String lower = word.toLowerCase(Locale.ROOT);
            if (word.codePointCount(0, word.length()) < 4 || STOP_WORDS.contains(lower)
                    || extraStopWords.contains(lower)
                    || lower.chars().allMatch(Character::isDigit) || !seen.add(lower)) {
                continue;
            }
            if (i == last + 1 && groups.get(groups.size() - 1).size() < 3) {
                groups.get(groups.size() - 1).add(cut(word, MAX_KEYWORD_LENGTH));
            } else {
                groups.add(new ArrayList<>(List.of(cut(word, MAX_KEYWORD_LENGTH))));
            }
            last = i;
            taken++;
        }
        return groups;
    }

    /** Maximal runs of letters and digits, by code point. */
    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int start = -1;
        int i = 0;
        while (i < text.length()) {
            int cp = text.codePointAt(i);
            if (Character.isLetterOrDigit(cp)) {
                if (start < 0) {
                    start = i;
                }
            } else if (start >= 0) {
                words.add(text.substring(start, i));
                start = -1;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            words.add(text.substring(start));
        }
        return words;
    }

    private static boolean isGreeting(String prompt) {
        List<String> words = words(prompt.toLowerCase(Locale.ROOT));
        if (words.isEmpty() || words.size() > 5) {
            return false;
        }
        boolean greets = false;
        for (String w : words) {
            if (GREETING_WORDS.contains(w)) {
                greets = true;
            } else if (!GREETING_FILLERS.contains(w)) {
                return false;
            }
        }
        return greets;
    }

    private static boolean isAboutCode(String prompt) {
        for (String w : words(prompt.toLowerCase(Locale.ROOT))) {
            if (CODE_WORDS.contains(w)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------------- templating

    private static String fill(String template, String topic, List<String> terms, String quote) {
        String t = template
                .replace("{Topic}", capitalize(topic))
                .replace("{topic}", topic)
                .replace("{t1}", terms.get(0))
                .replace("{t2}", terms.get(1))
                .replace("{t3}", terms.get(2));
        return withQuote(t, quote);
    }

    /**
     * Puts the quotation in place of {@code {quote}}, last, as it is user text that must not be expanded further;
     * a full stop right after it is dropped when the quotation already ends a sentence ("“Why?”." reads badly).
     */
    private static String withQuote(String template, String quote) {
        String inner = quote.endsWith(CLOSE_QUOTE) ? quote.substring(0, quote.length() - 1) : quote;
        boolean ends = inner.endsWith(".") || inner.endsWith("?") || inner.endsWith("!") || inner.endsWith(ELLIPSIS);
        String t = ends ? template.replace("{quote}.", "{quote}") : template;
        return t.replace("{quote}", quote);
    }

    /** The keywords followed by fillers, so that {t1}..{t3} always exist. */
    private static List<String> withFillers(List<String> keywords) {
        List<String> terms = new ArrayList<>(keywords);
        for (int i = keywords.size(); i < 3; i++) {
            terms.add(FILLERS.get(i));
        }
        return terms;
    }

    /** "a", "a and b", "a, b and c", at most three words. */
    private static String phrase(List<String> keywords) {
        List<String> k = keywords.subList(0, Math.min(3, keywords.size()));
        if (k.size() == 1) {
            return k.get(0);
        }
        return String.join(", ", k.subList(0, k.size() - 1)) + " and " + k.get(k.size() - 1);
    }

    /**
     * The text with whitespace runs collapsed to one space and trimmed; when longer than {@code max} chars, cut to
     * {@code max - 1} chars (never inside a surrogate pair) plus an ellipsis.
     */
    static String shorten(String text, int max) {
        String s = text.strip().replaceAll("\\s+", " ");
        if (s.length() <= max) {
            return s;
        }
        int cut = max - 1;
        if (Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--;
        }
        return s.substring(0, cut).stripTrailing() + ELLIPSIS;
    }

    private static String cut(String word, int maxCodePoints) {
        if (word.codePointCount(0, word.length()) <= maxCodePoints) {
            return word;
        }
        return word.substring(0, word.offsetByCodePoints(0, maxCodePoints));
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s, Character.charCount(first), s.length()).toString();
    }

    private static boolean hasText(String s) {
        return s != null && !s.isBlank();
    }

    // ---------------------------------------------------------------------------------------------------- choice

    private static <T> T pick(List<T> options, int seed, int salt) {
        return options.get(choose(seed, salt, options.size()));
    }

    /** A stable choice in {@code [0, n)} for this seed and purpose. */
    private static int choose(int seed, int salt, int n) {
        return Math.floorMod(mix(seed ^ (salt * 0x9E3779B9)), n);
    }

    /** MurmurHash3's 32-bit finalizer: spreads String.hashCode's bits. */
    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    // ------------------------------------------------------------------------------------------------ tokenizing

    private static void flush(List<String> tokens, StringBuilder current) {
        if (current.length() > 0) {
            tokens.add(current.toString());
            current.setLength(0);
        }
    }

    /** End of the character cluster starting at {@code i}: a code point plus anything that must stay with it. */
    private static int clusterEnd(String text, int i) {
        int n = text.length();
        int cp = text.codePointAt(i);
        int j = i + Character.charCount(cp);
        boolean regionalPending = isRegionalIndicator(cp);
        while (j < n) {
            int next = text.codePointAt(j);
            if (next == 0x200D) { // zero-width joiner: keep it and the code point it joins
                j += Character.charCount(next);
                if (j < n && !Character.isWhitespace(text.charAt(j))) {
                    j += Character.charCount(text.codePointAt(j));
                }
            } else if (isExtender(next)) {
                j += Character.charCount(next);
            } else if (regionalPending && isRegionalIndicator(next)) { // flag: two regional indicators
                j += Character.charCount(next);
                regionalPending = false;
            } else {
                break;
            }
        }
        return j;
    }

    private static boolean isExtender(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                || type == Character.COMBINING_SPACING_MARK
                || (cp >= 0xFE00 && cp <= 0xFE0F)          // variation selectors
                || (cp >= 0x1F3FB && cp <= 0x1F3FF)        // skin tone modifiers
                || (cp >= 0xE0020 && cp <= 0xE007F);       // tag characters
    }

    private static boolean isRegionalIndicator(int cp) {
        return cp >= 0x1F1E6 && cp <= 0x1F1FF;
    }

    /** CJK and other unspaced scripts, and emoji: streamed one per token. */
    private static boolean isWide(int cp) {
        if (cp >= 0x1F000 || (cp >= 0x2600 && cp <= 0x27BF)) {
            return Character.getType(cp) == Character.OTHER_SYMBOL || isRegionalIndicator(cp)
                    || Character.isIdeographic(cp);
        }
        Character.UnicodeScript script = Character.UnicodeScript.of(cp);
        return script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
                || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL
                || script == Character.UnicodeScript.THAI;
    }

    private static boolean isPunctuation(int cp) {
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.END_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }
}
