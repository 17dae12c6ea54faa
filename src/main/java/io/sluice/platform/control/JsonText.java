package io.sluice.platform.control;

/**
 * Writes JSON strings by hand, for the one shape that is written per event ({@code {"delta":"…","isFinal":false}}):
 * building a JSON-P object per event costs several objects and a generator, where this is one pass over the text.
 * Escaping follows RFC 8259 section 7: quotation mark, reverse solidus and the control characters U+0000 to U+001F
 * are escaped ({@code \b \f \n \r \t} by name, the others as <code>&#92;u</code> and four hex digits); every
 * other character is written as it is.
 */
public final class JsonText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JsonText() {
    }

    /** Appends {@code s} as a JSON string literal, quotes included. */
    public static StringBuilder quote(StringBuilder out, String s) {
        out.append('"');
        int start = 0;
        int length = s.length();
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c != '"' && c != '\\') {
                continue;
            }
            out.append(s, start, i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
            start = i + 1;
        }
        return out.append(s, start, length).append('"');
    }
}
