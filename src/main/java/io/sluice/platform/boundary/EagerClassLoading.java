package io.sluice.platform.boundary;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Loads every class of the application ({@code WEB-INF/classes}) at start-up, without initializing them, and then the
 * classes of the libraries, the server and the JDK that the streaming hot path loads on first use
 * ({@value #HOT_CLASSES}).
 *
 * <p>Why: on SIGTERM or undeploy the container stops the application's class loader before the application has
 * finished stopping. The shutdown then saves every running stream as {@code partial} and sends its followers the
 * terminal event (issue 11, rule 3), and that path runs code that a node which never saw a stream end has not
 * loaded yet: it failed with {@code NoClassDefFoundError} (Payara Micro 6), and the answers were lost. Loading costs
 * a few milliseconds and some hundred classes of metaspace, once.
 *
 * <p>The hot-class list (issue 22): on a node that has just started, the first 1,000 streams loaded some 1,800 classes
 * while they ran (about 660 that have names: the JDK's HTTP client, Yasson's and EclipseLink's runtime, Weld,
 * Micrometer...), serialized on the class loaders' locks, and Payara's class loader was the third most contended lock
 * of that first round (JFR). The list is the named ones, taken from a JFR recording of the first round of
 * {@code bench.sh --cold} with {@code SLUICE_WARMUP=false} ({@code src/test/java/io/sluice/bench/HotClasses.java}).
 * Loading them here, through the application's class loader (which finds what the application can see, and skips the
 * rest), takes a fraction of a second at deployment. The node's warm-up loads them anyway; this is what remains when it
 * is off. A class the list names that is not found (another server, another version) is skipped.
 */
@WebListener
public class EagerClassLoading implements ServletContextListener {

    private static final Logger LOG = Logger.getLogger(EagerClassLoading.class.getName());
    private static final String ROOT = "/WEB-INF/classes/";
    /** The hot-class list, a resource of the application: one binary class name a line, {@code #} comments. */
    static final String HOT_CLASSES = "META-INF/sluice/hot-classes.txt";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        ClassLoader loader = EagerClassLoading.class.getClassLoader();
        int[] loaded = {0};
        walk(context, ROOT, loader, loaded);
        LOG.fine(() -> loaded[0] + " application classes loaded ahead of the shutdown that needs them");
        int[] hot = loadHotClasses(loader);
        LOG.fine(() -> hot[0] + " classes of the hot path loaded ahead of the first streams, " + hot[1] + " not found");
    }

    /** Loads (without initializing) the classes {@value #HOT_CLASSES} names: {@code [loaded, not found]}. */
    static int[] loadHotClasses(ClassLoader loader) {
        int[] counts = {0, 0};
        try (InputStream in = loader.getResourceAsStream(HOT_CLASSES)) {
            if (in == null) {
                return counts;
            }
            BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null) {
                String name = line.strip();
                if (name.isEmpty() || name.startsWith("#")) {
                    continue;
                }
                try {
                    Class.forName(name, false, loader);
                    counts[0]++;
                } catch (ClassNotFoundException | LinkageError e) {
                    counts[1]++;
                }
            }
        } catch (IOException e) {
            LOG.log(Level.FINE, "the hot-class list could not be read", e);
        }
        return counts;
    }

    private static void walk(ServletContext context, String dir, ClassLoader loader, int[] loaded) {
        Set<String> paths = context.getResourcePaths(dir);
        if (paths == null) {
            return;
        }
        for (String path : paths) {
            if (path.endsWith("/")) {
                walk(context, path, loader, loaded);
            } else if (path.endsWith(".class") && !path.endsWith("module-info.class")) {
                String name = path.substring(ROOT.length(), path.length() - ".class".length()).replace('/', '.');
                try {
                    Class.forName(name, false, loader);
                    loaded[0]++;
                } catch (ClassNotFoundException | LinkageError e) {
                    LOG.log(Level.FINE, "not loaded ahead: " + name, e);
                }
            }
        }
    }
}
