package io.sluice.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy for the database fault tests (issue 11): it forwards to a target (PostgreSQL) and can be made to
 * fail the way networks fail, without touching the database server itself.
 * <ul>
 *   <li>{@link Mode#PASS}: bytes flow both ways;</li>
 *   <li>{@link Mode#REFUSE}: open connections are reset, new ones are accepted and reset at once (as a database
 *       that is down);</li>
 *   <li>{@link Mode#BLACKHOLE}: connections stay open but no byte goes through, either way (packets dropped: the
 *       client waits until its own timeouts fire).</li>
 * </ul>
 * Thread per connection direction: test code, a handful of connections.
 */
final class TcpProxy implements AutoCloseable {

    enum Mode { PASS, REFUSE, BLACKHOLE }

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.PASS;

    TcpProxy(String targetHost, int targetPort) throws IOException {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Switches the mode; {@code REFUSE} resets every open connection at once. */
    void mode(Mode next) {
        mode = next;
        if (next == Mode.REFUSE) {
            open.forEach(TcpProxy::reset);
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            if (mode == Mode.REFUSE) {
                reset(client);
                continue;
            }
            try {
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                open.add(client);
                open.add(upstream);
                pipe(client, upstream);
                pipe(upstream, client);
            } catch (IOException e) {
                reset(client);
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (mode == Mode.PASS) {
                        out.write(buffer, 0, n);
                        out.flush();
                    } // BLACKHOLE: read and dropped
                }
            } catch (IOException ignored) {
                // reset or closed
            } finally {
                open.remove(from);
                open.remove(to);
                close(from);
                close(to);
            }
        }, "tcp-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // RST, not FIN
        } catch (IOException ignored) {
            // closing anyway
        }
        close(s);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        open.forEach(TcpProxy::reset);
    }
}
