package io.sluice.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 GETs one after another on one kept-alive socket, as a browser's connection pool does, but without its
 * timing: the next request leaves the moment the previous response ended, so the server serves it with the request
 * and response objects it has just finished with (Tomcat recycles them per connection). Bodies may be chunked,
 * sized, or end with the connection; a connection the server closed while idle is replaced once.
 */
final class KeepAliveClient implements AutoCloseable {

    /** A whole response; header names in lower case. */
    record Response(int status, Map<String, String> headers, String body) {
    }

    private final String host;
    private final int port;
    private final int readTimeoutMillis;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveClient(String host, int port, int readTimeoutMillis) {
        this.host = host;
        this.port = port;
        this.readTimeoutMillis = readTimeoutMillis;
    }

    /**
     * GETs {@code path} with {@code headers} and reads the whole response.
     *
     * @throws IOException when the response does not come whole within the read timeout (per read), or the server
     *                     ends the connection inside it
     */
    Response get(String path, Map<String, String> headers) throws IOException {
        StringBuilder request = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host)
                .append(':').append(port).append("\r\n");
        headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        byte[] bytes = request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
        boolean reused = socket != null;
        String statusLine;
        try {
            if (socket == null) {
                open();
            }
            out.write(bytes);
            out.flush();
            statusLine = line();
        } catch (IOException e) {
            if (!reused) {
                throw e;
            }
            closeSocket(); // the server closed the idle connection (keep-alive timeout or request limit): once more
            open();
            out.write(bytes);
            out.flush();
            statusLine = line();
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not a status line: " + statusLine);
        }
        Map<String, String> responseHeaders = new HashMap<>();
        for (String header = line(); !header.isEmpty(); header = line()) {
            int colon = header.indexOf(':');
            responseHeaders.put(header.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    header.substring(colon + 1).strip());
        }
        String body;
        boolean closes = "close".equalsIgnoreCase(responseHeaders.get("connection"));
        if ("chunked".equalsIgnoreCase(responseHeaders.get("transfer-encoding"))) {
            body = chunked(statusLine, responseHeaders);
        } else if (responseHeaders.containsKey("content-length")) {
            body = new String(exactly(Integer.parseInt(responseHeaders.get("content-length"))), StandardCharsets.UTF_8);
        } else {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            closes = true;
        }
        if (closes) {
            closeSocket();
        }
        return new Response(Integer.parseInt(parts[1]), responseHeaders, body);
    }

    private String chunked(String statusLine, Map<String, String> headers) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try {
            while (true) {
                String size = line();
                int semicolon = size.indexOf(';');
                int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
                if (n == 0) {
                    while (!line().isEmpty()) {
                        // trailers
                    }
                    return body.toString(StandardCharsets.UTF_8);
                }
                body.write(exactly(n));
                line();
            }
        } catch (IOException e) {
            closeSocket();
            throw new IOException(e.getMessage() + "; the response so far: " + statusLine + " " + headers + "\n"
                    + body.toString(StandardCharsets.UTF_8), e);
        }
    }

    private byte[] exactly(int n) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new EOFException("the connection ended inside the body");
        }
        return bytes;
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c == -1) {
                throw new EOFException("the connection ended" + (line.isEmpty() ? "" : " after \"" + line + "\""));
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    private void open() throws IOException {
        socket = new Socket(host, port);
        socket.setSoTimeout(readTimeoutMillis);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    private void closeSocket() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // gone either way
            }
            socket = null;
        }
    }

    @Override
    public void close() {
        closeSocket();
    }
}
