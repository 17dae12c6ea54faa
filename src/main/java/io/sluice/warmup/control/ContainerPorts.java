package io.sluice.warmup.control;

import java.lang.management.ManagementFactory;
import java.util.OptionalInt;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The plain-HTTP port of the container, where the container publishes it in the platform MBean server, so that the
 * warm-up can start at deployment rather than at the first request (issue 22):
 * <ul>
 *   <li>Tomcat: a {@code Catalina:type=Connector,*} MBean whose {@code scheme} is {@code http}, not {@code secure},
 *       and whose protocol is not AJP; its {@code localPort} (the bound port), else {@code port};</li>
 *   <li>WildFly: the {@code boundPort} of the socket binding {@code http}
 *       ({@code jboss.as:socket-binding-group=standard-sockets,socket-binding=http}), the one Undertow's default
 *       listener uses.</li>
 * </ul>
 * Payara publishes no listener MBean unless its AMX is booted; there the first request tells the port.
 */
final class ContainerPorts {

    private static final Logger LOG = Logger.getLogger(ContainerPorts.class.getName());

    private ContainerPorts() {
    }

    /** The container's plain-HTTP port, or empty when it publishes none (or reading it failed). */
    static OptionalInt plainHttp() {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            for (ObjectName connector : server.queryNames(new ObjectName("Catalina:type=Connector,*"), null)) {
                Object scheme = attribute(server, connector, "scheme");
                Object secure = attribute(server, connector, "secure");
                Object protocol = attribute(server, connector, "protocol");
                if ("http".equals(scheme) && !Boolean.TRUE.equals(secure)
                        && !String.valueOf(protocol).toUpperCase(java.util.Locale.ROOT).startsWith("AJP")) {
                    Object port = attribute(server, connector, "localPort");
                    if (!(port instanceof Integer p) || p <= 0) {
                        port = attribute(server, connector, "port");
                    }
                    if (port instanceof Integer p && p > 0) {
                        return OptionalInt.of(p);
                    }
                }
            }
            ObjectName wildfly = new ObjectName("jboss.as:socket-binding-group=standard-sockets,socket-binding=http");
            if (server.isRegistered(wildfly) && attribute(server, wildfly, "boundPort") instanceof Integer p && p > 0) {
                return OptionalInt.of(p);
            }
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.FINE, "the container's HTTP port could not be read", e);
        }
        return OptionalInt.empty();
    }

    private static Object attribute(MBeanServer server, ObjectName name, String attribute) {
        try {
            return server.getAttribute(name, attribute);
        } catch (JMException | RuntimeException e) {
            return null;
        }
    }
}
