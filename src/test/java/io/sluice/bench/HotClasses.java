package io.sluice.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The hot-class list of {@code EagerClassLoading} from a profile (issue 22): prints, one per line and sorted, the
 * classes a JFR recording saw loaded ({@code jdk.ClassLoad}, which the recording must enable) between two moments,
 * given in seconds from the recording's first event, such as the first round of {@code bench.sh --cold} on a node
 * started with {@code SLUICE_WARMUP=false}. Left out: Sluice's own classes (all loaded at deployment anyway), and
 * classes made at run time (lambdas, method handles' forms, proxies, reflection accessors), whose names do not exist
 * in any jar.
 *
 * <pre>java src/test/java/io/sluice/bench/HotClasses.java RECORDING.jfr FROM_S TO_S &gt; src/main/resources/META-INF/sluice/hot-classes.txt</pre>
 */
public final class HotClasses {

    private HotClasses() {
    }

    /**
     * @param args the recording, the start and the end of the window in seconds
     * @throws Exception when the recording cannot be read
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java HotClasses.java RECORDING.jfr FROM_S TO_S");
            System.exit(2);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(Path.of(args[0]));
        Instant t0 = events.stream().map(RecordedEvent::getStartTime).min(Comparator.naturalOrder()).orElseThrow();
        double from = Double.parseDouble(args[1]);
        double to = Double.parseDouble(args[2]);
        TreeSet<String> names = new TreeSet<>();
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals("jdk.ClassLoad")) {
                continue;
            }
            double t = Duration.between(t0, e.getStartTime()).toNanos() / 1e9;
            RecordedClass c = e.getValue("loadedClass");
            if (t >= from && t < to && c != null && keep(c.getName())) {
                names.add(c.getName());
            }
        }
        System.out.println("# The hot-class list of EagerClassLoading (issue 22): the named classes loaded between " + from
                + " s and " + to + " s of " + Path.of(args[0]).getFileName() + ",");
        System.out.println("# made by src/test/java/io/sluice/bench/HotClasses.java. One binary class name a line; a"
                + " name not found is skipped.");
        names.forEach(System.out::println);
    }

    /** Whether a class name is one a class loader can find again by name. */
    static boolean keep(String name) {
        return !name.startsWith("io.sluice.") && !name.contains("/") && !name.contains("$$")
                && !name.contains("LambdaForm$") && !name.contains("$Proxy$") && !name.startsWith("jdk.proxy")
                && !name.startsWith("com.sun.proxy") && !name.contains("GeneratedMethodAccessor")
                && !name.contains("GeneratedConstructorAccessor") && !name.contains("GeneratedSerializationConstructorAccessor")
                && !name.contains("$_jvst") && !name.startsWith("[");
    }
}
