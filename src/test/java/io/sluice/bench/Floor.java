package io.sluice.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The floor under the sequential scenario's "added first-token time" (issue 21): what the server and the upstream
 * client cost before any of Sluice's own work, measured the way {@code LoadBench --scenario sequential} measures,
 * one request at a time. A single-file program, JDK only:
 *
 * <pre>
 * java src/test/java/io/sluice/bench/Floor.java [--base http://localhost:8080] [--upstream 127.0.0.1:18090]
 *      [--rounds 300] [--warmup 2000]
 * </pre>
 *
 * against a running Sluice node whose upstream is the bench's fake upstream ({@code LoadBench --upstream-only}),
 * whose answer here is the sequential scenario's (3 chunks × 5 ms). Start the node as {@code bench.sh} does, with
 * {@code SLUICE_NEW_IDENTITIES_PER_MINUTE} raised: each {@code jaxrs} request comes without a cookie and gets a new
 * identity, and a response that is not 2xx stops the program. With the defaults it runs about 3 minutes.
 * Each round runs, in an order that rotates, one request of each kind, and prints p50/p95/p99 in ms per kind:
 * <ul>
 *   <li>{@code direct}: a new connection to the fake upstream, {@code POST /v1/chat/completions}, to its first
 *       content chunk (the sequential scenario's "direct");</li>
 *   <li>{@code static}: a new connection to the node, {@code GET /favicon.svg} (the servlet container and the
 *       application's servlet filters, no JAX-RS), to the first byte of the response;</li>
 *   <li>{@code jaxrs}: a new connection to the node, {@code GET /api/info} (the filters and Jersey with a resource that
 *       reads configuration only), to the first byte;</li>
 *   <li>{@code jdk-client}: the JDK {@link HttpClient} as Sluice's upstream calls use it (HTTP/1.1, keep-alive, its
 *       callbacks on a 4-thread pool), {@code POST /v1/chat/completions} to the fake upstream, from
 *       {@code sendAsync} to the first body bytes holding content;</li>
 *   <li>{@code raw-keepalive}: the same exchange on one kept-alive socket written and read by this thread.</li>
 * </ul>
 * So {@code static − direct} is the servlet container's own cost, {@code jaxrs − static} Jersey's, and
 * {@code jdk-client − raw-keepalive} what the JDK client adds to the upstream hop. A pause of 20 ms separates
 * requests. Figures come from one machine and are only comparable with each other.
 */
public final class Floor {

    private static final byte[] CONTENT = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final String BODY = "{\"model\":\"bench\",\"stream\":true,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"floor [shape chunks=3 interval=5]\"}]}";

    private Floor() {
    }

    public static void main(String[] args) throws Exception {
        String base = "http://localhost:8080";
        String upstream = "127.0.0.1:18090";
        int rounds = 300;
        int warmup = 2000;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--base" -> base = args[i + 1];
                case "--upstream" -> upstream = args[i + 1];
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                default -> {
                    System.err.println("usage: Floor [--base URL] [--upstream HOST:PORT] [--rounds N] [--warmup N]");
                    System.exit(2);
                }
            }
        }
        URI node = URI.create(base);
        InetSocketAddress nodeAddress = new InetSocketAddress(node.getHost(), node.getPort());
        String[] hostPort = upstream.split(":");
        InetSocketAddress up = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        byte[] chat = ("POST /v1/chat/completions HTTP/1.1\r\nHost: " + upstream + "\r\nContent-Type: application/json"
                + "\r\nAccept: text/event-stream\r\nContent-Length: " + BODY.length() + "\r\nConnection: close\r\n\r\n"
                + BODY).getBytes(StandardCharsets.US_ASCII);
        byte[] chatKeepAlive = new String(chat, StandardCharsets.US_ASCII).replace("Connection: close",
                "Connection: keep-alive").getBytes(StandardCharsets.US_ASCII);
        String host = node.getHost() + ":" + node.getPort();
        byte[] favicon = ("GET /favicon.svg HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] info = ("GET /api/info HTTP/1.1\r\nHost: " + host + "\r\nAccept: application/json\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);

        ExecutorService pool = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(pool).build();
        URI chatUri = URI.create("http://" + upstream + "/v1/chat/completions");
        KeptAlive kept = new KeptAlive(up, chatKeepAlive);

        Map<String, Supplier<Long>> kinds = new LinkedHashMap<>();
        kinds.put("direct", () -> firstContent(up, chat));
        kinds.put("static", () -> firstByte(nodeAddress, favicon));
        kinds.put("jaxrs", () -> firstByte(nodeAddress, info));
        kinds.put("jdk-client", () -> jdkClient(client, chatUri));
        kinds.put("raw-keepalive", kept::exchange);
        List<String> names = new ArrayList<>(kinds.keySet());
        Map<String, long[]> samples = new LinkedHashMap<>();
        for (String n : names) {
            samples.put(n, new long[rounds]);
        }
        System.out.printf("warm-up: %d rounds; then %d measured rounds of %s%n", warmup, rounds, names);
        for (int r = -warmup; r < rounds; r++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get(Math.floorMod(k + r, names.size()));
                long nanos = kinds.get(name).get();
                if (r >= 0) {
                    samples.get(name)[r] = nanos;
                }
                if (r >= 0 || r % 10 == 0) {
                    Thread.sleep(r >= 0 ? 20 : 1);
                }
            }
        }
        for (Map.Entry<String, long[]> e : samples.entrySet()) {
            long[] s = e.getValue().clone();
            Arrays.sort(s);
            System.out.printf("%-14s n=%d  p50 %.3f  p95 %.3f  p99 %.3f ms%n", e.getKey(), s.length, pick(s, 0.50),
                    pick(s, 0.95), pick(s, 0.99));
        }
        kept.close();
        pool.shutdownNow();
    }

    private static double pick(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    /** A new connection: sends {@code request}, returns the ns to the first byte of the response. */
    private static long firstByte(InetSocketAddress address, byte[] request) {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            long start = System.nanoTime();
            socket.connect(address);
            socket.getOutputStream().write(request);
            InputStream in = socket.getInputStream();
            int first = in.read();
            if (first < 0) {
                throw new IOException("no response");
            }
            long nanos = System.nanoTime() - start;
            byte[] rest = in.readAllBytes();
            String status = (char) first + new String(rest, 0, Math.min(rest.length, 11), StandardCharsets.US_ASCII);
            if (!status.startsWith("HTTP/1.1 2")) { // a refusal (a rate limit: 429) would be measured as a response
                throw new IOException("answered " + status);
            }
            return nanos;
        } catch (IOException e) {
            throw new IllegalStateException(address + ": " + e, e);
        }
    }

    /** A new connection: sends {@code request}, returns the ns to the first bytes that hold content. */
    private static long firstContent(InetSocketAddress address, byte[] request) {
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            long start = System.nanoTime();
            socket.connect(address);
            socket.getOutputStream().write(request);
            long nanos = untilContent(socket.getInputStream(), start);
            socket.getInputStream().transferTo(OutputStream.nullOutputStream());
            return nanos;
        } catch (IOException e) {
            throw new IllegalStateException(address + ": " + e, e);
        }
    }

    /** Reads until a non-empty {@code "content":"…"} has arrived; returns the ns since {@code start}. */
    private static long untilContent(InputStream in, long start) throws IOException {
        byte[] buffer = new byte[16384];
        int length = 0;
        while (true) {
            int n = in.read(buffer, length, buffer.length - length);
            if (n < 0) {
                throw new IOException("no content chunk");
            }
            length += n;
            if (holdsContent(buffer, length)) {
                return System.nanoTime() - start;
            }
            if (length == buffer.length) {
                length = 0;
            }
        }
    }

    /** Whether the first {@code length} bytes hold a non-empty {@code "content":"…"} (a delta with text). */
    static boolean holdsContent(byte[] b, int length) {
        outer:
        for (int i = 0; i + CONTENT.length < length; i++) {
            for (int j = 0; j < CONTENT.length; j++) {
                if (b[i + j] != CONTENT[j]) {
                    continue outer;
                }
            }
            if (b[i + CONTENT.length] != '"') {
                return true;
            }
        }
        return false;
    }

    /** The JDK client, as {@code OpenAiProvider} uses it: ns from {@code sendAsync} to the first content bytes. */
    private static long jdkClient(HttpClient client, URI uri) {
        HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
        CompletableFuture<Long> first = new CompletableFuture<>();
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<Void>> response = client.sendAsync(request, info -> new Subscriber(first, start));
        try {
            long nanos = first.get(10, TimeUnit.SECONDS);
            response.get(10, TimeUnit.SECONDS);
            return nanos;
        } catch (Exception e) {
            throw new IllegalStateException("JDK client: " + e, e);
        }
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<Void> {
        private final CompletableFuture<Long> first;
        private final long start;
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        private Flow.Subscription subscription;

        Subscriber(CompletableFuture<Long> first, long start) {
            this.first = first;
            this.start = start;
        }

        @Override
        public CompletionStage<Void> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            if (!first.isDone()) {
                for (ByteBuffer buffer : buffers) {
                    byte[] b = new byte[buffer.remaining()];
                    buffer.get(b);
                    if (holdsContent(b, b.length)) {
                        first.complete(System.nanoTime() - start);
                        break;
                    }
                }
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable throwable) {
            first.completeExceptionally(throwable);
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            first.completeExceptionally(new IOException("no content chunk"));
            body.complete(null);
        }
    }

    /** One kept-alive connection to the upstream, written and read by the calling thread. */
    private static final class KeptAlive {
        private static final byte[] END = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        private final InetSocketAddress address;
        private final byte[] request;
        private Socket socket;

        KeptAlive(InetSocketAddress address, byte[] request) {
            this.address = address;
            this.request = request;
        }

        long exchange() {
            try {
                if (socket == null) {
                    socket = new Socket();
                    socket.setTcpNoDelay(true);
                    socket.connect(address);
                }
                long start = System.nanoTime();
                socket.getOutputStream().write(request);
                InputStream in = socket.getInputStream();
                long nanos = untilContent(in, start);
                // read to the end of the chunked body, so that the next request starts clean; a connection whose
                // end is not seen within 2 s (it came with the content's bytes) is replaced
                socket.setSoTimeout(2000);
                byte[] tail = new byte[END.length];
                int b;
                try {
                    while ((b = in.read()) >= 0) {
                        System.arraycopy(tail, 1, tail, 0, tail.length - 1);
                        tail[tail.length - 1] = (byte) b;
                        if (Arrays.equals(tail, END)) {
                            break;
                        }
                    }
                    if (b < 0) {
                        reset();
                    }
                } catch (java.net.SocketTimeoutException e) {
                    reset();
                }
                return nanos;
            } catch (IOException e) {
                throw new IllegalStateException("kept-alive upstream: " + e, e);
            }
        }

        private void reset() throws IOException {
            socket.close();
            socket = null;
        }

        void close() throws IOException {
            if (socket != null) {
                socket.close();
            }
        }
    }
}
