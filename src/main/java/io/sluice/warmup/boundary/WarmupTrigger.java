package io.sluice.warmup.boundary;

import io.sluice.warmup.control.Warmup;
import jakarta.inject.Inject;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestEvent;
import jakarta.servlet.ServletRequestListener;
import jakarta.servlet.annotation.WebListener;

/**
 * Starts the node's warm-up (issue 22, {@link Warmup}): at deployment where the container publishes its HTTP port,
 * else at the first plain-HTTP request the application sees (any path: on Payara, the first probe of
 * {@code /health/ready}, which Payara serves inside the application), whose local address and port it then calls. Once
 * the warm-up has started, each request costs one volatile read here.
 */
@WebListener
public class WarmupTrigger implements ServletContextListener, ServletRequestListener {

    @Inject
    Warmup warmup;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        warmup.deployed(event.getServletContext().getContextPath());
    }

    @Override
    public void requestInitialized(ServletRequestEvent event) {
        if (warmup.waiting()) {
            ServletRequest r = event.getServletRequest();
            warmup.requestSeen(r.isSecure(), r.getScheme(), r.getLocalAddr(), r.getLocalPort(),
                    event.getServletContext().getContextPath());
        }
    }
}
