package io.sluice.operations.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * One Redis {@code PING} for the readiness check: connects to a {@code redis://[[user]:password@]host[:port]} URL,
 * authenticates when the URL has a password, sends {@code PING} and expects {@code +PONG} (RESP, the Redis
 * serialization protocol: commands as arrays of bulk strings, simple-string replies).
 */
public final class RedisPing {

    private RedisPing() {
    }

    /**
     * @param timeoutMillis connect and read timeout, in ms
     * @return empty when Redis answered {@code +PONG}, else a short reason (no secret in it)
     */
    public static Optional<String> ping(String url, int timeoutMillis) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return Optional.of("SLUICE_REDIS_URL is not a URL");
        }
        if (uri.getHost() == null || !("redis".equals(uri.getScheme()) || "rediss".equals(uri.getScheme()))) {
            return Optional.of("SLUICE_REDIS_URL must be redis://host:port");
        }
        if ("rediss".equals(uri.getScheme())) {
            return Optional.of("rediss:// (TLS) is not supported by the readiness check");
        }
        int port = uri.getPort() == -1 ? 6379 : uri.getPort();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(uri.getHost(), port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            String userInfo = uri.getRawUserInfo();
            if (userInfo != null && !userInfo.isEmpty()) {
                int colon = userInfo.indexOf(':');
                String user = colon < 0 ? "" : URLDecoder.decode(userInfo.substring(0, colon), StandardCharsets.UTF_8);
                String password = URLDecoder.decode(colon < 0 ? userInfo : userInfo.substring(colon + 1),
                        StandardCharsets.UTF_8);
                out.write(user.isEmpty() ? command("AUTH", password) : command("AUTH", user, password));
                String auth = line(in);
                if (!auth.startsWith("+OK")) {
                    return Optional.of("AUTH refused");
                }
            }
            out.write(command("PING"));
            out.flush();
            String reply = line(in);
            return reply.equals("+PONG") ? Optional.empty() : Optional.of("unexpected reply to PING");
        } catch (IOException e) {
            return Optional.of(e.getClass().getSimpleName() + " from " + uri.getHost() + ":" + port);
        }
    }

    static byte[] command(String... parts) {
        StringBuilder b = new StringBuilder().append('*').append(parts.length).append("\r\n");
        for (String p : parts) {
            byte[] bytes = p.getBytes(StandardCharsets.UTF_8);
            b.append('$').append(bytes.length).append("\r\n").append(p).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n' && b.length() < 512) {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
