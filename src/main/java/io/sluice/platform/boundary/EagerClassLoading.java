package io.sluice.platform.boundary;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Loads every class of the application ({@code WEB-INF/classes}) at start-up, without initializing them.
 *
 * <p>Why: on SIGTERM or undeploy the container stops the application's class loader before the application has
 * finished stopping. The shutdown then saves every running stream as {@code partial} and sends its followers the
 * terminal event (issue 11, rule 3), and that path runs code that a node which never saw a stream end has not
 * loaded yet: it failed with {@code NoClassDefFoundError} (Payara Micro 6), and the answers were lost. Loading costs
 * a few milliseconds and some hundred classes of metaspace, once.
 */
@WebListener
public class EagerClassLoading implements ServletContextListener {

    private static final Logger LOG = Logger.getLogger(EagerClassLoading.class.getName());
    private static final String ROOT = "/WEB-INF/classes/";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        ClassLoader loader = EagerClassLoading.class.getClassLoader();
        int[] loaded = {0};
        walk(context, ROOT, loader, loaded);
        LOG.fine(() -> loaded[0] + " application classes loaded ahead of the shutdown that needs them");
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
