package io.sluice.operations.control;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Prometheus's {@code promtool} (Debian's {@code prometheus} package, which {@code .ci/run} installs) for the
 * tests: {@code check rules}, {@code test rules}, {@code check metrics}. Tests call {@link #path()} first and skip,
 * with a message saying so, where it is not installed.
 */
public final class Promtool {

    private Promtool() {
    }

    /** The promtool executable: {@code /usr/bin/promtool}, or one on the {@code PATH}; {@code null} when none. */
    public static String path() {
        if (new File("/usr/bin/promtool").canExecute()) {
            return "/usr/bin/promtool";
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                File f = new File(dir, "promtool");
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        return null;
    }

    /** Message of a skipped test. */
    public static final String MISSING = "promtool is not installed (Debian package prometheus; .ci/run installs it): "
            + "skipped";

    /**
     * Runs promtool with {@code args} in {@code dir}, feeding {@code stdin} (or nothing).
     *
     * @return exit code and combined output
     */
    public static Result run(File dir, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(path());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir).redirectErrorStream(true).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("promtool did not finish in 60 s");
        }
        return new Result(p.exitValue(), out);
    }

    /** What promtool said. */
    public record Result(int exitCode, String output) {
    }
}
