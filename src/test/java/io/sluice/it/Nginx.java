package io.sluice.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's nginx with {@code server-config/nginx/sluice.conf}, run by a suite as a process of its own: the file's
 * upstream servers and listen port replaced, everything else as shipped (FaultsIT, ClusterIT).
 */
final class Nginx implements AutoCloseable {

    final Process process;
    final int port;

    private Nginx(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** The nginx binary, or {@code null} where Debian's package is not installed. */
    static Path binary() {
        return Stream.of("/usr/sbin/nginx", "/usr/bin/nginx").map(Path::of).filter(Files::isExecutable).findFirst()
                .orElse(null);
    }

    /**
     * Starts nginx on a free port of 127.0.0.1 in front of {@code nodes} (ports on 127.0.0.1), with its files in
     * {@code dir}; returns once the port accepts connections (at most 10 s).
     */
    static Nginx start(Path binary, Path dir, List<Integer> nodes) throws Exception {
        Files.createDirectories(dir);
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        StringBuilder servers = new StringBuilder();
        for (int node : nodes) {
            servers.append(servers.length() == 0 ? "" : "\n    ").append("server 127.0.0.1:").append(node).append(';');
        }
        String site = Files.readString(Path.of("server-config", "nginx", "sluice.conf"))
                .replace("server 127.0.0.1:8080;", servers)
                .replace("listen 80;", "listen 127.0.0.1:" + port + ";");
        assertTrue(site.contains(":" + nodes.get(0) + ";") && site.contains(":" + port + ";"),
                "the file's addresses were found");
        Files.writeString(dir.resolve("sluice.conf"), site);
        Files.writeString(dir.resolve("nginx.conf"), "daemon off; pid " + dir.resolve("nginx.pid") + "; error_log "
                + dir.resolve("error.log") + " info; events {} http { access_log off; client_body_temp_path " + dir
                + "/body; proxy_temp_path " + dir + "/proxy; fastcgi_temp_path " + dir + "/fastcgi; "
                + "uwsgi_temp_path " + dir + "/uwsgi; scgi_temp_path " + dir + "/scgi; include " + dir
                + "/sluice.conf; }\n");
        Process process = new ProcessBuilder(binary.toString(), "-p", dir.toString(), "-c",
                dir.resolve("nginx.conf").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile()).start();
        long up = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return new Nginx(process, port);
            } catch (IOException notYet) {
                assertTrue(process.isAlive() && System.nanoTime() < up, "nginx started; see " + dir);
                Thread.sleep(100);
            }
        }
    }

    @Override
    public void close() {
        process.destroy();
    }
}
