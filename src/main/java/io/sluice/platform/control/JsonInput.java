package io.sluice.platform.control;

/**
 * Checks the raw text of a JSON request body or WebSocket frame before it is parsed, in one pass over its UTF-16
 * code units, so that hostile input gets a clear refusal instead of a parser's stack overflow or a lossy save:
 * <ul>
 *   <li><b>Nesting.</b> Arrays and objects nested deeper than {@link #MAX_DEPTH} are refused. No request of the API
 *       nests deeper than 4 levels; the limit leaves room for OpenAI tool schemas in {@code /v1}.</li>
 *   <li><b>Lone surrogates.</b> A {@code \}{@code uD800}..{@code \}{@code uDFFF} escape that is not half of a pair
 *       (RFC 8259 section 8.2: such a string is not Unicode text) is refused, and so is a raw unpaired surrogate
 *       code unit. The policy is the same on every path, HTTP and WebSocket: refuse (400 or {@code BAD_FRAME}),
 *       never store a replacement character the client did not send (README, "Hostile input").</li>
 *   <li><b>NUL.</b> A {@code \}{@code u0000} escape is refused: PostgreSQL text cannot hold U+0000, and an id or a
 *       message carrying one would fail later, inside a transaction (a raw NUL is invalid JSON already).</li>
 * </ul>
 * Syntax errors are left to the parser: this check only looks inside what it can recognise.
 */
public final class JsonInput {

    /** Deepest nesting of arrays and objects accepted: 64 levels. */
    public static final int MAX_DEPTH = 64;

    private JsonInput() {
    }

    /**
     * @param text a JSON text, as received
     * @return {@code null} when the text may be parsed, else a message for the client saying what is wrong
     */
    public static String problem(String text) {
        int depth = 0;
        boolean inString = false;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return "the text holds an unpaired surrogate (not Unicode text)";
            }
            if (inString) {
                if (c == '"') {
                    inString = false;
                } else if (c == '\\' && i + 1 < n) {
                    i++;
                    if (text.charAt(i) == 'u') {
                        int unit = hex(text, i + 1);
                        if (unit == 0) {
                            return "a string holds U+0000 (NUL), which stored text cannot hold";
                        }
                        if (unit >= 0 && Character.isSurrogate((char) unit)) {
                            int low = Character.isHighSurrogate((char) unit) && text.startsWith("\\u", i + 5)
                                    ? hex(text, i + 7) : -1;
                            if (low < 0 || !Character.isLowSurrogate((char) low)) {
                                return "a string holds an unpaired surrogate escape (\\u" + text.substring(i + 1, i + 5)
                                        + "): not Unicode text";
                            }
                            i += 10; // both escapes
                        } else if (unit >= 0) {
                            i += 4;
                        }
                    }
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '[' || c == '{') {
                if (++depth > MAX_DEPTH) {
                    return "JSON nested deeper than " + MAX_DEPTH + " levels";
                }
            } else if (c == ']' || c == '}') {
                depth--;
            }
        }
        return null;
    }

    /** The 4 hex digits at {@code from} as a code unit, or -1. */
    private static int hex(String text, int from) {
        if (from + 4 > text.length()) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < from + 4; i++) {
            int digit = Character.digit(text.charAt(i), 16);
            if (digit < 0) {
                return -1;
            }
            value = value * 16 + digit;
        }
        return value;
    }
}
