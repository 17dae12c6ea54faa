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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP relay between the browser and the deployed server, so that a browser test can cut the network under a
 * page: {@link #cut()} closes every open connection at once, as a lost network does. Chromium's offline
 * emulation alone only fails new requests; a response already streaming keeps flowing. {@link #blackholeBusy}
 * makes the connections that are streaming go silent without closing them (no FIN, no RST: packets dropped on a
 * dead path), while new connections still pass. Listens on a free port of 127.0.0.1 and forwards bytes unchanged
 * in both directions.
 */
final class BrowserNetwork implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "browser-network");
        t.setDaemon(true);
        return t;
    });
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Set<Link> links = ConcurrentHashMap.newKeySet();

    /** One relayed connection: when the server last sent bytes on it, and whether it is blackholed. */
    private static final class Link {
        volatile long lastFromServerNanos;
        volatile boolean blackholed;
    }

    /** Starts relaying connections to {@code host:port}. */
    BrowserNetwork(String host, int port) throws IOException {
        target = new InetSocketAddress(host, port);
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    /** The port the browser should use instead of the server's. */
    int port() {
        return server.getLocalPort();
    }

    /** Closes every connection open through the relay (new ones are still accepted). */
    void cut() {
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                open.add(client);
                open.add(upstream);
                Link link = new Link();
                links.add(link);
                threads.execute(() -> pump(client, upstream, link, false));
                threads.execute(() -> pump(upstream, client, link, true));
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    /**
     * Blackholes the connections on which the server sent bytes within the last {@code recentMillis} ms (a
     * response that is streaming): from now on they carry no byte either way, and stay open. Idle kept-alive
     * connections and new ones still pass. Returns how many connections went silent.
     */
    int blackholeBusy(long recentMillis) {
        long since = System.nanoTime() - java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(recentMillis);
        int n = 0;
        for (Link link : links) {
            if (!link.blackholed && link.lastFromServerNanos - since > 0) {
                link.blackholed = true;
                n++;
            }
        }
        return n;
    }

    private void pump(Socket from, Socket to, Link link, boolean fromServer) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (link.blackholed) {
                    continue; // read and dropped: the other side waits for bytes that never come
                }
                if (fromServer) {
                    link.lastFromServerNanos = System.nanoTime();
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // closed by cut() or by either side
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
            links.remove(link);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        cut();
        threads.shutdownNow();
    }

    private static void closeQuietly(ServerSocket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
