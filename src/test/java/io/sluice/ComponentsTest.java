package io.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The components point one way (README, "Components and what each may import"): a component of
 * {@code src/main/java/io/sluice} imports (or names in full, in code) only components below it in {@link #ORDER}.
 * Comments may name any component.
 */
class ComponentsTest {

    /** Top to bottom; each may use only those after it. */
    static final List<String> ORDER = List.of("operations", "agents", "chat", "openai", "warmup", "streams",
            "conversations", "providers", "identity", "problems", "platform");

    private static final Path ROOT = Path.of("src/main/java/io/sluice");
    private static final Pattern USE = Pattern.compile("\\bio\\.sluice\\.([a-z]+)\\.(?:boundary|control|entity|[A-Z])");

    @Test
    void noImportRunsBackUp() throws IOException {
        Set<String> upward = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String component = ROOT.relativize(file).getName(0).toString();
                int level = ORDER.indexOf(component);
                if (level < 0) {
                    unknown.add(component);
                    continue;
                }
                Matcher m = USE.matcher(code(Files.readString(file)));
                while (m.find()) {
                    int used = ORDER.indexOf(m.group(1));
                    if (used < 0) {
                        unknown.add(m.group(1));
                    } else if (used < level) {
                        upward.add(component + " -> " + m.group(1) + " (" + ROOT.relativize(file) + ")");
                    }
                }
            }
        }
        assertEquals(Set.of(), unknown, "components missing from ORDER");
        assertEquals(Set.of(), upward, "imports that run back up");
    }

    /** The source without its comment lines (doc comments may name any component). */
    private static String code(String source) {
        StringBuilder code = new StringBuilder(source.length());
        for (String line : source.split("\n")) {
            String s = line.strip();
            if (!s.startsWith("*") && !s.startsWith("/*") && !s.startsWith("//")) {
                code.append(line).append('\n');
            }
        }
        return code.toString();
    }
}
