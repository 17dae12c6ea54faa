package io.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Load benchmark of Sluice's {@code POST /api/chat/stream} (API.md section 2): many concurrent SSE chat
 * streams against one node. A single-file, JDK-only program; it is not a JUnit test and the Maven build only
 * compiles it.
 *
 * <p>What it does:
 * <ul>
 *   <li>Starts a fake OpenAI-compatible upstream on {@code 127.0.0.1:--upstream-port} (default 18090). It is a
 *       single-threaded NIO server (not {@code com.sun.net.httpserver.HttpServer}, which would hold one thread
 *       per paced response and cap the concurrency): {@code POST /v1/chat/completions} answers
 *       {@code --chunks} {@code chat.completion.chunk} events (one short word each) every
 *       {@code --interval-ms}, the first at once, then a chunk with {@code finish_reason} and {@code usage}, then
 *       {@code data: [DONE]}; HTTP/1.1 chunked, keep-alive. By default it runs in a child JVM
 *       ({@code --upstream fork}), so that the bench's client sockets and the upstream's sockets do not share
 *       one {@code ulimit -n}: at 10,000 streams each side holds 10,000 sockets.
 *       {@code --upstream inline} runs it in this JVM, {@code --upstream none} expects one already running
 *       (start it with {@code --upstream-only}). {@code --simulated} sends {@code "model":"simulated"} and
 *       needs no upstream at all.</li>
 *   <li>Opens {@code --streams} concurrent {@code POST {base}/api/chat/stream} requests
 *       ({@code {"message":"bench i","model":"bench"}}), started evenly over {@code --ramp-seconds}. No cookie
 *       is kept, so every request is a new anonymous user. Responses are read by the JDK {@link HttpClient}
 *       with a reactive {@link HttpResponse.BodySubscriber} that parses the event stream as bytes arrive: no
 *       thread per stream (a few {@code HttpClient}s, each with its selector thread, share a small pool).</li>
 *   <li>Measures streams started, completed ({@code done}) and failed, by reason ({@code error:CODE},
 *       {@code http_STATUS}, {@code io:...}, {@code connect:...}, {@code eof_before_terminal},
 *       {@code timeout:...}); the peak number of simultaneously open streams; time to the first
 *       {@code message} event from request send (p50/p95/p99/max); stream duration; the longest gap between
 *       two {@code message} events of a stream; {@code message} events and bytes received; wall time. With
 *       {@code --pid} it samples the server process every second from {@code /proc/PID} (threads, VmRSS, open
 *       file descriptors, CPU) and reports min / max / at the peak of open streams.</li>
 * </ul>
 *
 * <p>Before the run, one probe stream checks that the server answers and really streams from this bench's
 * upstream (the probe's text must be the fake upstream's words); otherwise the bench prints the command that
 * starts the server correctly and exits with status 2.
 *
 * <p>Commands (from the project root; see the README for the server's run command and configuration):
 * <pre>
 * # 1. build and start the server, pointing at the bench's fake upstream (port 18090); keep it running
 * SLUICE_UPSTREAM_URL=http://127.0.0.1:18090/v1 SLUICE_HEARTBEAT_SECONDS=15 \
 *     mvn -DskipTests package payara-micro:start &gt; target/payara.log 2&gt;&amp;1 &amp;
 * until curl -sf localhost:8080/api/info; do sleep 2; done
 *
 * # 2. the server's pid: the Payara Micro JVM that deployed this WAR (plain `pgrep -f payara-micro` also
 * #    matches the Maven process and any other Payara Micro on the machine)
 * PID=$(pgrep -f "payara-micro.*--deploy $PWD/target/sluice.war")
 *
 * # 3. the bench: 100 chunks at 100 ms, so each stream lasts about 10 s and the streams overlap
 * java src/test/java/io/sluice/bench/LoadBench.java --streams 1000  --ramp-seconds 10 --pid $PID
 * java src/test/java/io/sluice/bench/LoadBench.java --streams 5000  --ramp-seconds 10 --pid $PID
 * java src/test/java/io/sluice/bench/LoadBench.java --streams 10000 --ramp-seconds 10 --pid $PID
 *
 * # the same without any upstream: the built-in simulated model
 * java src/test/java/io/sluice/bench/LoadBench.java --simulated --streams 1000 --pid $PID
 *
 * # which thread pools grow in the server
 * jcmd $PID Thread.print | grep '"' | cut -d'#' -f1 | sort | uniq -c | sort -rn | head -30
 * </pre>
 * {@code --help} lists every option. Exit status: 0 when every stream completed, 1 when some failed, 2 on a
 * usage or set-up error.
 */
public final class LoadBench {

    static final String USAGE = """
            usage: java src/test/java/io/sluice/bench/LoadBench.java [options]
              --base URL              Sluice root URL (default http://localhost:8080)
              --streams N             concurrent chat streams to open (default 1000)
              --ramp-seconds S        start the streams evenly over S seconds (default 10)
              --chunks N              chunks per upstream answer (default 100)
              --interval-ms M         pause between chunks (default 100)
              --upstream-port P       port of the fake upstream (default 18090)
              --upstream MODE         fork (child JVM, default) | inline (this JVM) | none (already running)
              --upstream-only         only run the fake upstream, until killed
              --simulated             use "model":"simulated" (no upstream needed)
              --model NAME            model name sent to Sluice (default bench; simulated with --simulated)
              --pid PID               sample the server process (/proc/PID) every second
              --timeout-seconds S     give up S s after the last stream should have ended (default 60)
              --header-timeout-seconds S  longest wait for response headers (default 60)
              --clients K             JDK HttpClients (one selector thread each, default 4)
              --threads T             threads running the clients' callbacks (default 4)
              --no-probe              skip the probe stream
              --quiet                 no per-second progress lines
            """;

    // ------------------------------------------------------------------ options

    static final class Options {
        String base = "http://localhost:8080";
        int streams = 1000;
        double rampSeconds = 10;
        int chunks = 100;
        int intervalMs = 100;
        int upstreamPort = 18090;
        String upstream = "fork";
        boolean upstreamOnly;
        boolean exitOnStdinEof;
        boolean simulated;
        String model;
        long pid = -1;
        int timeoutSeconds = 60;
        int headerTimeoutSeconds = 60;
        int clients = 4;
        int threads = 4;
        boolean probe = true;
        boolean quiet;
        boolean help;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String value = null;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0) {
                    value = a.substring(eq + 1);
                    a = a.substring(0, eq);
                }
                switch (a) {
                    case "--help", "-h" -> o.help = true;
                    case "--upstream-only" -> o.upstreamOnly = true;
                    case "--exit-on-stdin-eof" -> o.exitOnStdinEof = true;
                    case "--simulated" -> o.simulated = true;
                    case "--no-probe" -> o.probe = false;
                    case "--quiet" -> o.quiet = true;
                    default -> {
                        if (value == null) {
                            if (i + 1 >= args.length) {
                                throw new IllegalArgumentException("missing value after " + a);
                            }
                            value = args[++i];
                        }
                        try {
                            switch (a) {
                                case "--base" -> o.base = value.replaceAll("/+$", "");
                                case "--streams" -> o.streams = positive(a, Integer.parseInt(value));
                                case "--ramp-seconds" -> o.rampSeconds = Double.parseDouble(value);
                                case "--chunks" -> o.chunks = positive(a, Integer.parseInt(value));
                                case "--interval-ms" -> o.intervalMs = Integer.parseInt(value);
                                case "--upstream-port" -> o.upstreamPort = Integer.parseInt(value);
                                case "--upstream" -> o.upstream = value;
                                case "--model" -> o.model = value;
                                case "--pid" -> o.pid = Long.parseLong(value);
                                case "--timeout-seconds" -> o.timeoutSeconds = Integer.parseInt(value);
                                case "--header-timeout-seconds" -> o.headerTimeoutSeconds = positive(a, Integer.parseInt(value));
                                case "--clients" -> o.clients = positive(a, Integer.parseInt(value));
                                case "--threads" -> o.threads = positive(a, Integer.parseInt(value));
                                default -> throw new IllegalArgumentException("unknown option " + a);
                            }
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("not a number for " + a + ": " + value);
                        }
                    }
                }
            }
            if (!List.of("fork", "inline", "none").contains(o.upstream)) {
                throw new IllegalArgumentException("--upstream must be fork, inline or none");
            }
            if (o.model == null) {
                o.model = o.simulated ? "simulated" : "bench";
            }
            return o;
        }

        private static int positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return v;
        }
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (o.help) {
            System.out.print(USAGE);
            return;
        }
        if (o.upstreamOnly) {
            FakeUpstream.serve(o);
            return;
        }
        System.exit(new LoadBench(o).run());
    }

    // ------------------------------------------------------------------ the fake upstream

    /**
     * A fake OpenAI-compatible upstream on one NIO selector thread: paced chunks come from a timer queue, so
     * any number of slow responses costs one socket each and no thread.
     */
    static final class FakeUpstream implements Runnable {

        private static final String[] WORDS = {"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "sluice ",
                "bench ", "stream ", "flow ", "gate "};
        /** The probe's answer: the bench checks that Sluice relays exactly this. */
        static final String PROBE_TEXT = "lorem ipsum dolor ";

        private final Selector selector;
        private final ServerSocketChannel server;
        private final int chunks;
        private final long intervalNanos;
        private final ByteBuffer[] chunkBytes;
        private final ByteBuffer finalBytes;
        private final ByteBuffer headerBytes;
        private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
        private final PriorityQueue<Conn> due = new PriorityQueue<>(Comparator.comparingLong(c -> c.nextAt));
        private volatile boolean running = true;
        private Thread thread;

        final AtomicLong accepted = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong cut = new AtomicLong();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger peakOpen = new AtomicInteger();

        private static final class Conn {
            final SocketChannel channel;
            SelectionKey key;
            byte[] in = new byte[2048];
            int inLength;
            final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
            boolean streaming;
            boolean queued;
            boolean closed;
            int sent;
            int total;
            long nextAt;

            Conn(SocketChannel channel) {
                this.channel = channel;
            }
        }

        FakeUpstream(int port, int chunks, int intervalMs) throws IOException {
            this.chunks = chunks;
            this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
            selector = Selector.open();
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("127.0.0.1", port), 8192);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            chunkBytes = new ByteBuffer[WORDS.length];
            for (int i = 0; i < WORDS.length; i++) {
                chunkBytes[i] = httpChunk(sse("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                        + "\"created\":1700000000,\"model\":\"bench-upstream\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\"" + WORDS[i] + "\"},\"finish_reason\":null}]}"));
            }
            finalBytes = ByteBuffer.wrap(concat(
                    httpChunk(sse("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                            + "\"created\":1700000000,\"model\":\"bench-upstream\",\"choices\":[{\"index\":0,"
                            + "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
                            + "\"completion_tokens\":" + chunks + ",\"total_tokens\":" + (chunks + 3) + "}}")),
                    httpChunk(sse("[DONE]")),
                    "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            headerBytes = ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        }

        private static String sse(String data) {
            return "data: " + data + "\n\n";
        }

        private static ByteBuffer httpChunk(String payload) {
            byte[] p = payload.getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.wrap(concat((Integer.toHexString(p.length) + "\r\n").getBytes(StandardCharsets.US_ASCII),
                    p, "\r\n".getBytes(StandardCharsets.US_ASCII)));
        }

        private static byte[] concat(Object... parts) {
            int n = 0;
            for (Object part : parts) {
                n += part instanceof ByteBuffer b ? b.remaining() : ((byte[]) part).length;
            }
            byte[] all = new byte[n];
            int at = 0;
            for (Object part : parts) {
                if (part instanceof ByteBuffer b) {
                    b.duplicate().get(all, at, b.remaining());
                    at += b.remaining();
                } else {
                    byte[] p = (byte[]) part;
                    System.arraycopy(p, 0, all, at, p.length);
                    at += p.length;
                }
            }
            return all;
        }

        void start() {
            thread = new Thread(this, "fake-upstream");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() {
            running = false;
            selector.wakeup();
        }

        String summary() {
            return "accepted=" + accepted + " requests=" + requests + " completed=" + completed + " cut=" + cut
                    + " peakOpen=" + peakOpen;
        }

        /** {@code --upstream-only}: serves until killed (or, for a forked child, until stdin closes). */
        static void serve(Options o) throws Exception {
            FakeUpstream up = new FakeUpstream(o.upstreamPort, o.chunks, o.intervalMs);
            up.start();
            System.out.println("READY fake upstream on http://127.0.0.1:" + o.upstreamPort + "/v1, " + o.chunks
                    + " chunks every " + o.intervalMs + " ms");
            System.out.flush();
            if (o.exitOnStdinEof) {
                InputStream stdin = System.in;
                while (stdin.read() >= 0) {
                    // the parent closes our stdin when it is done (or when it dies)
                }
                System.out.println("SUMMARY " + up.summary());
                System.out.flush();
                up.stop();
                return;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("fake upstream: " + up.summary())));
            while (true) {
                Thread.sleep(10_000);
                if (up.open.get() > 0) {
                    System.out.println("fake upstream: open=" + up.open + " " + up.summary());
                }
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    long wait = 500;
                    Conn head = due.peek();
                    if (head != null) {
                        wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(head.nextAt - System.nanoTime()));
                    }
                    selector.select(wait);
                    var keys = selector.selectedKeys();
                    for (var it = keys.iterator(); it.hasNext(); ) {
                        SelectionKey key = it.next();
                        it.remove();
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isAcceptable()) {
                            accept();
                            continue;
                        }
                        Conn c = (Conn) key.attachment();
                        if (key.isValid() && key.isWritable()) {
                            flush(c);
                        }
                        if (key.isValid() && key.isReadable()) {
                            read(c);
                        }
                    }
                    tick();
                }
                selector.close();
                server.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void accept() throws IOException {
            SocketChannel ch;
            while ((ch = server.accept()) != null) {
                accepted.incrementAndGet();
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Conn c = new Conn(ch);
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
            }
        }

        private void read(Conn c) {
            while (true) {
                readBuffer.clear();
                int n;
                try {
                    n = c.channel.read(readBuffer);
                } catch (IOException e) {
                    close(c);
                    return;
                }
                if (n < 0) {
                    close(c);
                    return;
                }
                if (n == 0) {
                    break;
                }
                readBuffer.flip();
                if (c.inLength + n > c.in.length) {
                    if (c.inLength + n > 1 << 20) {
                        close(c);
                        return;
                    }
                    c.in = Arrays.copyOf(c.in, Math.max(c.in.length * 2, c.inLength + n));
                }
                readBuffer.get(c.in, c.inLength, n);
                c.inLength += n;
            }
            if (!c.streaming) {
                nextRequest(c);
            }
        }

        /** Parses one buffered request, if complete, and starts answering it. */
        private void nextRequest(Conn c) {
            int headerEnd = indexOf(c.in, c.inLength, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            if (headerEnd < 0) {
                return;
            }
            String head = new String(c.in, 0, headerEnd, StandardCharsets.ISO_8859_1);
            int contentLength = 0;
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                    contentLength = Integer.parseInt(line.substring(colon + 1).trim());
                }
            }
            int total = headerEnd + 4 + contentLength;
            if (c.inLength < total) {
                return;
            }
            String body = new String(c.in, headerEnd + 4, contentLength, StandardCharsets.UTF_8);
            System.arraycopy(c.in, total, c.in, 0, c.inLength - total);
            c.inLength -= total;
            String requestLine = head.substring(0, Math.max(0, head.indexOf("\r\n") < 0 ? head.length() : head.indexOf("\r\n")));
            if (!requestLine.startsWith("POST ") || !requestLine.contains("/chat/completions")) {
                enqueue(c, ByteBuffer.wrap(("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 30\r\n\r\n{\"error\":{\"message\":\"no such\"}}").getBytes(StandardCharsets.US_ASCII)));
                flush(c);
                return;
            }
            requests.incrementAndGet();
            int nowOpen = open.incrementAndGet();
            peakOpen.accumulateAndGet(nowOpen, Math::max);
            c.streaming = true;
            c.sent = 0;
            c.total = body.contains("bench probe") ? 3 : chunks;
            c.nextAt = System.nanoTime();
            enqueue(c, headerBytes.duplicate());
            schedule(c);
        }

        private void schedule(Conn c) {
            if (!c.queued && !c.closed && c.streaming) {
                c.queued = true;
                due.add(c);
            }
        }

        private void tick() {
            long now = System.nanoTime();
            Conn c;
            while ((c = due.peek()) != null && c.nextAt <= now) {
                due.poll();
                c.queued = false;
                if (c.closed || !c.streaming) {
                    continue;
                }
                if (c.sent < c.total) {
                    enqueue(c, chunkBytes[c.sent % chunkBytes.length].duplicate());
                    c.sent++;
                    c.nextAt = Math.max(c.nextAt + intervalNanos, now - intervalNanos);
                } else {
                    enqueue(c, finalBytes.duplicate());
                    c.streaming = false;
                    completed.incrementAndGet();
                    open.decrementAndGet();
                }
                if (flush(c) && c.streaming) {
                    schedule(c);
                }
                if (!c.streaming && !c.closed && c.inLength > 0) {
                    nextRequest(c);
                }
            }
        }

        private void enqueue(Conn c, ByteBuffer b) {
            c.out.add(b);
        }

        /** Writes what is pending; false when the socket is full (then OP_WRITE is armed) or closed. */
        private boolean flush(Conn c) {
            if (c.closed) {
                return false;
            }
            try {
                while (!c.out.isEmpty()) {
                    ByteBuffer b = c.out.peek();
                    c.channel.write(b);
                    if (b.hasRemaining()) {
                        c.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                        return false;
                    }
                    c.out.poll();
                }
                if ((c.key.interestOps() & SelectionKey.OP_WRITE) != 0) {
                    c.key.interestOps(SelectionKey.OP_READ);
                    schedule(c); // was held back while the socket was full
                }
                return true;
            } catch (IOException e) {
                close(c);
                return false;
            }
        }

        private void close(Conn c) {
            if (c.closed) {
                return;
            }
            c.closed = true;
            if (c.streaming) {
                c.streaming = false;
                cut.incrementAndGet();
                open.decrementAndGet();
            }
            c.key.cancel();
            try {
                c.channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        private static int indexOf(byte[] data, int length, byte[] needle) {
            outer:
            for (int i = 0; i + needle.length <= length; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (data[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }
    }

    /** The fake upstream in a child JVM: its own file descriptor table and its own CPU scheduling. */
    static final class ForkedUpstream {
        private final Process process;
        private final CompletableFuture<String> ready = new CompletableFuture<>();
        private final CompletableFuture<String> summary = new CompletableFuture<>();

        ForkedUpstream(Options o) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElse("java"));
            String source = ProcessHandle.current().info().arguments().stream().flatMap(Arrays::stream)
                    .filter(a -> a.endsWith(".java")).findFirst().orElse(null);
            if (source != null) {
                command.add(source);
            } else {
                command.add("-cp");
                command.add(System.getProperty("java.class.path"));
                command.add(LoadBench.class.getName());
            }
            command.addAll(List.of("--upstream-only", "--exit-on-stdin-eof", "--upstream-port",
                    Integer.toString(o.upstreamPort), "--chunks", Integer.toString(o.chunks), "--interval-ms",
                    Integer.toString(o.intervalMs)));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.startsWith("READY")) {
                            ready.complete(line);
                        } else if (line.startsWith("SUMMARY")) {
                            summary.complete(line.substring(8));
                        } else {
                            System.out.println("[upstream] " + line);
                        }
                    }
                } catch (IOException ignored) {
                    // the child is gone
                }
                ready.completeExceptionally(new IOException("the fake upstream exited"));
                summary.complete(null);
            }, "upstream-output");
            reader.setDaemon(true);
            reader.start();
        }

        long pid() {
            return process.pid();
        }

        void awaitReady() throws Exception {
            ready.get(120, TimeUnit.SECONDS);
        }

        String stop() {
            String s = null;
            try {
                process.getOutputStream().close();
                s = summary.get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // killed below
            }
            process.destroy();
            return s;
        }
    }

    // ------------------------------------------------------------------ the client side

    private final Options o;
    private final int n;
    private final Stream[] streams;
    private final AtomicLongArray ttft;       // nanos from send to first message, -1 none
    private final AtomicLongArray duration;   // nanos from send to terminal, -1 none
    private final AtomicLongArray maxGap;     // longest gap between two message events, nanos
    private final CountDownLatch finished;
    private final LongAdder messages = new LongAdder();
    private final LongAdder pings = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger headersReceived = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peakOpen = new AtomicInteger();
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();
    private final Map<String, String> reasonSamples = new ConcurrentHashMap<>();
    private final List<Sample> samples = new ArrayList<>();
    private HttpClient[] clients;
    private ExecutorService pool;
    private long t0;
    private long upstreamPid = -1;

    private LoadBench(Options o) {
        this.o = o;
        this.n = o.streams;
        streams = new Stream[n];
        ttft = filled(n);
        duration = filled(n);
        maxGap = filled(n);
        finished = new CountDownLatch(n);
    }

    private static AtomicLongArray filled(int n) {
        AtomicLongArray a = new AtomicLongArray(n);
        for (int i = 0; i < n; i++) {
            a.set(i, -1);
        }
        return a;
    }

    /** One chat stream: a reactive body subscriber that parses the event stream as bytes arrive. */
    final class Stream implements HttpResponse.BodySubscriber<Void> {
        final int index;
        final boolean probe;
        volatile long sendNanos;
        volatile CompletableFuture<?> exchange;
        volatile Flow.Subscription subscription;
        volatile boolean opened;
        final AtomicBoolean ended = new AtomicBoolean();
        final StringBuilder probeText = new StringBuilder();
        final CompletableFuture<String> probeResult = new CompletableFuture<>();
        // parser state (the subscriber's callbacks are serialized)
        private byte[] line = new byte[256];
        private int lineLength;
        private String eventName;
        private final StringBuilder data = new StringBuilder();
        private boolean hasData;
        private long lastMessageNanos = -1;
        private long longestGap;
        private int messageCount;

        Stream(int index, boolean probe) {
            this.index = index;
            this.probe = probe;
        }

        @Override
        public CompletionStage<Void> getBody() {
            // completes at once: the response future then completes with the headers, and the body keeps flowing
            return CompletableFuture.completedStage(null);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (ended.get()) {
                s.cancel();
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer b : buffers) {
                if (!probe) {
                    bytes.add(b.remaining());
                }
                while (b.hasRemaining()) {
                    byte x = b.get();
                    if (x == '\n') {
                        if (lineLength > 0 && line[lineLength - 1] == '\r') {
                            lineLength--;
                        }
                        line();
                        lineLength = 0;
                    } else {
                        if (lineLength == line.length) {
                            line = Arrays.copyOf(line, line.length * 2);
                        }
                        line[lineLength++] = x;
                    }
                }
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            end("io:" + t.getClass().getSimpleName(), describe(t));
        }

        @Override
        public void onComplete() {
            end("eof_before_terminal", null);
        }

        private void line() {
            if (lineLength == 0) {
                dispatch();
                return;
            }
            if (line[0] == ':') {
                return;
            }
            int colon = 0;
            while (colon < lineLength && line[colon] != ':') {
                colon++;
            }
            int valueStart = Math.min(lineLength, colon + 1);
            if (valueStart < lineLength && line[valueStart] == ' ') {
                valueStart++;
            }
            if (is("event", colon)) {
                eventName = new String(line, valueStart, lineLength - valueStart, StandardCharsets.UTF_8);
            } else if (is("data", colon)) {
                if (hasData) {
                    data.append('\n');
                }
                hasData = true;
                // a message's text is only decoded for the probe; the rest is counted
                if (probe || !"message".equals(eventName)) {
                    data.append(new String(line, valueStart, lineLength - valueStart, StandardCharsets.UTF_8));
                }
            }
        }

        private boolean is(String field, int colon) {
            if (colon != field.length()) {
                return false;
            }
            for (int i = 0; i < colon; i++) {
                if (line[i] != field.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private void dispatch() {
            String name = eventName == null ? "message" : eventName;
            String d = data.toString();
            boolean any = hasData;
            eventName = null;
            data.setLength(0);
            hasData = false;
            if (!any) {
                return;
            }
            long now = System.nanoTime();
            switch (name) {
                case "message" -> {
                    if (probe) {
                        String delta = jsonString(d, "delta");
                        if (delta != null) {
                            probeText.append(delta);
                        }
                        return;
                    }
                    messages.increment();
                    messageCount++;
                    if (lastMessageNanos < 0) {
                        ttft.set(index, now - sendNanos);
                    } else {
                        longestGap = Math.max(longestGap, now - lastMessageNanos);
                    }
                    lastMessageNanos = now;
                }
                case "ping" -> {
                    if (!probe) {
                        pings.increment();
                    }
                }
                case "done" -> end("completed", null);
                case "error" -> end("error:" + jsonString(d, "code"), jsonString(d, "error"));
                case "stopped" -> end("stopped:" + jsonString(d, "reason"), null);
                default -> {
                    // stream, and events this bench does not know
                }
            }
        }

        /** Ends this stream once, with {@code reason} ({@code completed} or a failure reason). */
        void end(String reason, String detail) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            if (probe) {
                probeResult.complete("completed".equals(reason) ? probeText.toString()
                        : "FAILED " + reason + (detail == null ? "" : " (" + detail + ")"));
                return;
            }
            long now = System.nanoTime();
            if (opened) {
                open.decrementAndGet();
            }
            if (messageCount > 0) {
                maxGap.set(index, longestGap);
            }
            if ("completed".equals(reason)) {
                duration.set(index, now - sendNanos);
                completed.incrementAndGet();
            } else {
                failed.incrementAndGet();
                reasons.computeIfAbsent(reason, k -> new LongAdder()).increment();
                if (detail != null) {
                    reasonSamples.putIfAbsent(reason, detail);
                }
            }
            finished.countDown();
        }

        void abandon(String reason) {
            end(reason, null);
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            CompletableFuture<?> x = exchange;
            if (x != null) {
                x.cancel(true);
            }
        }
    }

    private HttpResponse.BodySubscriber<Void> handle(Stream stream, HttpResponse.ResponseInfo info) {
        if (!stream.probe) {
            headersReceived.incrementAndGet();
        }
        if (info.statusCode() != 200) {
            return HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8),
                    text -> {
                        stream.end("http_" + info.statusCode(), shorten(text));
                        return null;
                    });
        }
        if (!stream.probe && !stream.ended.get()) {
            stream.opened = true;
            peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        }
        return stream;
    }

    private void send(Stream stream, HttpClient client) {
        String body = "{\"message\":\"" + (stream.probe ? "bench probe" : "bench " + stream.index)
                + "\",\"model\":\"" + o.model + "\"}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(o.base + "/api/chat/stream"))
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(o.headerTimeoutSeconds))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        stream.sendNanos = System.nanoTime();
        if (!stream.probe) {
            started.incrementAndGet();
        }
        CompletableFuture<HttpResponse<Void>> exchange = client.sendAsync(request, info -> handle(stream, info));
        stream.exchange = exchange;
        exchange.whenComplete((r, e) -> {
            if (e != null) {
                Throwable c = unwrap(e);
                stream.end("connect:" + c.getClass().getSimpleName(), describe(c));
            }
        });
    }

    // ------------------------------------------------------------------ the run

    private int run() throws Exception {
        FakeUpstream inline = null;
        ForkedUpstream forked = null;
        String upstreamLabel;
        if (o.simulated) {
            upstreamLabel = "none (simulated model)";
        } else if (o.upstream.equals("inline")) {
            inline = new FakeUpstream(o.upstreamPort, o.chunks, o.intervalMs);
            inline.start();
            upstreamLabel = "fake, in this JVM, 127.0.0.1:" + o.upstreamPort;
        } else if (o.upstream.equals("fork")) {
            forked = new ForkedUpstream(o);
            try {
                forked.awaitReady();
            } catch (Exception e) {
                System.err.println("the fake upstream did not start (port " + o.upstreamPort + " in use?): " + e);
                forked.stop();
                return 2;
            }
            upstreamPid = forked.pid();
            upstreamLabel = "fake, child JVM pid " + forked.pid() + ", 127.0.0.1:" + o.upstreamPort;
        } else {
            upstreamLabel = "external, expected on 127.0.0.1:" + o.upstreamPort;
        }
        try {
            return bench(upstreamLabel, inline, forked);
        } finally {
            if (inline != null) {
                inline.stop();
            }
            if (forked != null) {
                forked.stop();
            }
        }
    }

    private int bench(String upstreamLabel, FakeUpstream inline, ForkedUpstream forked) throws Exception {
        pool = Executors.newFixedThreadPool(o.threads, daemon("bench-client"));
        clients = new HttpClient[o.clients];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .executor(pool)
                    .connectTimeout(Duration.ofSeconds(o.headerTimeoutSeconds))
                    .build();
        }
        if (!preflight()) {
            return 2;
        }

        long expectedStreamMillis = o.simulated ? 0 : (long) o.chunks * o.intervalMs;
        System.out.printf(Locale.ROOT, "%nSluice load bench: %d streams over %.1f s against %s (model %s), upstream %s%s%n",
                n, o.rampSeconds, o.base, o.model, upstreamLabel,
                o.simulated ? "" : ", " + o.chunks + " chunks every " + o.intervalMs + " ms");

        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(daemon("bench-sampler"));
        t0 = System.nanoTime();
        long[] lastCpu = {cpuTicks(o.pid), cpuTicks(ProcessHandle.current().pid()), cpuTicks(upstreamPid)};
        long[] lastAt = {t0};
        sampler.scheduleAtFixedRate(() -> sample(lastCpu, lastAt), 1, 1, TimeUnit.SECONDS);

        // the ramp: one launcher thread, no thread per stream
        long rampNanos = (long) (o.rampSeconds * 1e9);
        for (int i = 0; i < n; i++) {
            long at = t0 + (n == 1 ? 0 : rampNanos * i / (n - 1));
            long wait = at - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            streams[i] = new Stream(i, false);
            send(streams[i], clients[i % clients.length]);
        }
        long deadlineSeconds = (long) Math.ceil(o.rampSeconds) + expectedStreamMillis / 1000 + o.timeoutSeconds;
        long remaining = deadlineSeconds * 1_000_000_000L - (System.nanoTime() - t0);
        boolean all = finished.await(Math.max(0, remaining), TimeUnit.NANOSECONDS);
        long wallNanos = System.nanoTime() - t0;
        int abandoned = 0;
        if (!all) {
            for (Stream s : streams) {
                if (s != null && !s.ended.get()) {
                    s.abandon(s.opened ? "timeout:open_without_terminal" : "timeout:no_response_headers");
                    abandoned++;
                }
            }
        }
        sampler.shutdown();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
        String upstreamSummary = inline != null ? inline.summary() : null;
        if (forked != null) {
            upstreamSummary = forked.stop();
        }
        report(wallNanos, expectedStreamMillis, abandoned, upstreamSummary);
        pool.shutdownNow();
        return failed.get() == 0 ? 0 : 1;
    }

    /** Checks that Sluice answers and streams from this bench's upstream; prints how to start it if not. */
    private boolean preflight() throws Exception {
        String startCommand = "  cd /work/main   # the project root\n"
                + "  SLUICE_UPSTREAM_URL=http://127.0.0.1:" + o.upstreamPort + "/v1 SLUICE_HEARTBEAT_SECONDS=15 "
                + "mvn -DskipTests package payara-micro:start\n"
                + "  (add SLUICE_HTTP_PORT=... and pass --base http://localhost:PORT if 8080 is taken)";
        String info;
        try {
            HttpResponse<String> r = clients[0].send(HttpRequest.newBuilder(URI.create(o.base + "/api/info"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            info = r.statusCode() + " " + r.body();
        } catch (IOException e) {
            System.err.println("Sluice is not reachable at " + o.base + " (" + describe(e) + ").");
            System.err.println("Start it first, with its upstream pointing at this bench's fake upstream:");
            System.err.println(startCommand);
            return false;
        }
        if (!info.startsWith("200")) {
            System.err.println("GET " + o.base + "/api/info answered " + shorten(info) + "; is this Sluice?");
            return false;
        }
        System.out.println("server: GET /api/info -> " + info.substring(4).strip());
        if (!o.simulated && info.contains("\"simulated\":true")) {
            System.err.println("Sluice runs without an upstream (it would answer with the simulated model)."
                    + " Restart it with:\n" + startCommand + "\nor run the bench with --simulated.");
            return false;
        }
        if (!o.probe) {
            return true;
        }
        Stream probe = new Stream(-1, true);
        send(probe, clients[0]);
        String text;
        try {
            text = probe.probeResult.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            probe.abandon("probe timeout");
            text = "FAILED no terminal event within 60 s";
        }
        if (text.startsWith("FAILED")) {
            System.err.println("the probe stream failed: " + text);
            if (!o.simulated) {
                System.err.println("Is Sluice's SLUICE_UPSTREAM_URL http://127.0.0.1:" + o.upstreamPort + "/v1 ? Start it with:\n"
                        + startCommand);
            }
            return false;
        }
        if (!o.simulated && !text.equals(FakeUpstream.PROBE_TEXT)) {
            System.err.println("the probe stream did not come from this bench's upstream (got \"" + shorten(text)
                    + "\"). Restart Sluice with:\n" + startCommand);
            return false;
        }
        System.out.println("probe: ok (" + (o.simulated ? text.length() + " characters" : "\"" + text.strip() + "\"") + ")");
        return true;
    }

    // ------------------------------------------------------------------ sampling

    record Sample(double t, int started, int open, int completed, int failed, long messages, long bytes,
                  long serverThreads, long serverRssKb, long serverFds, double serverCpu, long benchThreads,
                  double benchCpu, double upstreamCpu) {
    }

    private void sample(long[] lastCpu, long[] lastAt) {
        try {
            long now = System.nanoTime();
            double seconds = (now - lastAt[0]) / 1e9;
            lastAt[0] = now;
            long threads = -1;
            long rss = -1;
            long fds = -1;
            double cpu = -1;
            if (o.pid > 0) {
                Map<String, Long> status = procStatus(o.pid);
                threads = status.getOrDefault("Threads", -1L);
                rss = status.getOrDefault("VmRSS", -1L);
                fds = countFds(o.pid);
                long c = cpuTicks(o.pid);
                cpu = c < 0 || lastCpu[0] < 0 ? -1 : (c - lastCpu[0]) / 100.0 / seconds * 100;
                lastCpu[0] = c;
            }
            long self = ProcessHandle.current().pid();
            long benchThreads = procStatus(self).getOrDefault("Threads", -1L);
            long sc = cpuTicks(self);
            double benchCpu = (sc - lastCpu[1]) / 100.0 / seconds * 100;
            lastCpu[1] = sc;
            long uc = cpuTicks(upstreamPid);
            double upstreamCpu = uc < 0 || lastCpu[2] < 0 ? -1 : (uc - lastCpu[2]) / 100.0 / seconds * 100;
            lastCpu[2] = uc;
            Sample s = new Sample((now - t0) / 1e9, started.get(), open.get(), completed.get(), failed.get(),
                    messages.sum(), bytes.sum(), threads, rss, fds, cpu, benchThreads, benchCpu, upstreamCpu);
            long previousMessages;
            synchronized (samples) {
                previousMessages = samples.isEmpty() ? 0 : samples.get(samples.size() - 1).messages();
                samples.add(s);
            }
            if (!o.quiet) {
                System.out.printf(Locale.ROOT, "t=%5.1fs started=%-6d open=%-6d done=%-6d failed=%-5d msg/s=%-7d"
                                + " server: threads=%s rss=%s fds=%s cpu=%s | bench cpu=%.0f%%%s%n",
                        s.t(), s.started(), s.open(), s.completed(), s.failed(),
                        Math.round((s.messages() - previousMessages) / seconds),
                        num(threads), rss < 0 ? "-" : (rss / 1024) + "MiB", num(fds),
                        cpu < 0 ? "-" : Math.round(cpu) + "%", benchCpu,
                        upstreamCpu < 0 ? "" : String.format(Locale.ROOT, " upstream cpu=%.0f%%", upstreamCpu));
            }
        } catch (RuntimeException e) {
            System.err.println("sampling failed: " + e);
        }
    }

    private static String num(long v) {
        return v < 0 ? "-" : Long.toString(v);
    }

    static Map<String, Long> procStatus(long pid) {
        Map<String, Long> values = new TreeMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                int colon = line.indexOf(':');
                if (colon < 0) {
                    continue;
                }
                String key = line.substring(0, colon);
                if (key.equals("Threads") || key.equals("VmRSS") || key.equals("VmHWM")) {
                    values.put(key, Long.parseLong(line.substring(colon + 1).trim().split("\\s+")[0]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the process is gone or unreadable
        }
        return values;
    }

    static long countFds(long pid) {
        try (var list = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return list.count();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    /** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
    static long cpuTicks(long pid) {
        if (pid <= 0) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ the report

    private void report(long wallNanos, long expectedStreamMillis, int abandoned, String upstreamSummary) {
        List<Sample> ss;
        synchronized (samples) {
            ss = new ArrayList<>(samples);
        }
        StringBuilder r = new StringBuilder();
        String rule = "=".repeat(78) + "\n";
        r.append('\n').append(rule);
        r.append(String.format(Locale.ROOT, "SLUICE LOAD BENCH REPORT  %s%n",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"))));
        r.append(rule);
        r.append(String.format(Locale.ROOT, "machine       %d cpus, JDK %s (bench), server pid %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                o.pid > 0 ? Long.toString(o.pid) : "not sampled (no --pid)"));
        r.append(String.format(Locale.ROOT, "load          %d streams, ramp %.1f s, model %s, %s%n", n, o.rampSeconds,
                o.model, o.simulated ? "simulated model"
                        : o.chunks + " chunks x " + o.intervalMs + " ms (ideal stream " + expectedStreamMillis + " ms)"));
        r.append(String.format(Locale.ROOT, "wall time     %.1f s%n", wallNanos / 1e9));
        r.append(String.format(Locale.ROOT, "streams       started %d, got headers %d, completed %d, failed %d%s%n",
                started.get(), headersReceived.get(), completed.get(), failed.get(),
                abandoned > 0 ? " (" + abandoned + " abandoned at the deadline)" : ""));
        if (!reasons.isEmpty()) {
            r.append("failures by reason:\n");
            reasons.entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
                    .forEach(e -> r.append(String.format(Locale.ROOT, "  %7d  %-40s %s%n", e.getValue().sum(), e.getKey(),
                            Optional.ofNullable(reasonSamples.get(e.getKey())).map(s -> "e.g. " + s).orElse(""))));
        }
        int peakAt = -1;
        for (int i = 0; i < ss.size(); i++) {
            if (peakAt < 0 || ss.get(i).open() > ss.get(peakAt).open()) {
                peakAt = i;
            }
        }
        r.append(String.format(Locale.ROOT, "concurrency   peak open streams %d%s%n", peakOpen.get(),
                peakAt >= 0 ? String.format(Locale.ROOT, " (per-second samples: max %d at t=%.0f s)",
                        ss.get(peakAt).open(), ss.get(peakAt).t()) : ""));
        r.append("ttft          ").append(percentiles(ttft, "first message event after request send")).append('\n');
        r.append("duration      ").append(percentiles(duration, "request send to done, completed streams")).append('\n');
        r.append("max gap       ").append(percentiles(maxGap, "longest pause between two message events per stream")).append('\n');
        long msgs = messages.sum();
        long peakRate = 0;
        for (int i = 1; i < ss.size(); i++) {
            double dt = ss.get(i).t() - ss.get(i - 1).t();
            peakRate = Math.max(peakRate, Math.round((ss.get(i).messages() - ss.get(i - 1).messages()) / dt));
        }
        r.append(String.format(Locale.ROOT, "events        %d message events (%.1f per completed stream), %d pings,"
                        + " %.2f MiB of SSE%n", msgs, completed.get() == 0 ? 0.0 : (double) msgs / completed.get(),
                pings.sum(), bytes.sum() / 1048576.0));
        r.append(String.format(Locale.ROOT, "throughput    %.0f message events/s average over the wall time, peak %d/s"
                + " (1 s window)%n", msgs / (wallNanos / 1e9), peakRate));
        if (o.pid > 0 && !ss.isEmpty()) {
            Sample peak = ss.get(Math.max(0, peakAt));
            r.append("server        min / max / at peak open streams\n");
            r.append(line3("  threads", ss, Sample::serverThreads, peak.serverThreads(), ""));
            r.append(line3("  VmRSS MiB", ss, s -> s.serverRssKb() < 0 ? -1 : s.serverRssKb() / 1024,
                    peak.serverRssKb() / 1024, ""));
            r.append(line3("  open fds", ss, Sample::serverFds, peak.serverFds(), ""));
            r.append(line3("  CPU %", ss, s -> Math.round(s.serverCpu()), Math.round(peak.serverCpu()),
                    "  (100% = one core)"));
            long hwm = procStatus(o.pid).getOrDefault("VmHWM", -1L);
            if (hwm > 0) {
                r.append(String.format(Locale.ROOT, "  VmHWM (peak RSS since start) %d MiB%n", hwm / 1024));
            }
        }
        if (!ss.isEmpty()) {
            r.append(line3("bench threads", ss, Sample::benchThreads, ss.get(Math.max(0, peakAt)).benchThreads(), ""));
            r.append(line3("bench CPU %", ss, s -> Math.round(s.benchCpu()), Math.round(ss.get(Math.max(0, peakAt)).benchCpu()), ""));
            if (upstreamPid > 0) {
                r.append(line3("upstream CPU%", ss, s -> Math.round(s.upstreamCpu()),
                        Math.round(ss.get(Math.max(0, peakAt)).upstreamCpu()), "  (the forked fake upstream)"));
            }
        }
        if (upstreamSummary != null) {
            r.append("fake upstream ").append(upstreamSummary).append('\n');
        }
        r.append(rule);
        System.out.print(r);
    }

    private static String line3(String label, List<Sample> ss, java.util.function.ToLongFunction<Sample> f, long atPeak,
                                String note) {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (Sample s : ss) {
            long v = f.applyAsLong(s);
            if (v < 0) {
                continue;
            }
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (max == Long.MIN_VALUE) {
            return String.format(Locale.ROOT, "%-13s -%n", label);
        }
        return String.format(Locale.ROOT, "%-13s %d / %d / %d%s%n", label, min, max, atPeak, note);
    }

    private static String percentiles(AtomicLongArray nanos, String what) {
        long[] v = new long[nanos.length()];
        int k = 0;
        for (int i = 0; i < v.length; i++) {
            long x = nanos.get(i);
            if (x >= 0) {
                v[k++] = x;
            }
        }
        if (k == 0) {
            return "n=0 (" + what + ")";
        }
        long[] s = Arrays.copyOf(v, k);
        Arrays.sort(s);
        return String.format(Locale.ROOT, "n=%d p50 %s  p95 %s  p99 %s  max %s ms  (%s)", k, ms(s, 0.50),
                ms(s, 0.95), ms(s, 0.99), fmt(s[k - 1]), what);
    }

    private static String ms(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return fmt(sorted[Math.max(0, Math.min(sorted.length - 1, i))]);
    }

    private static String fmt(long nanos) {
        double ms = nanos / 1e6;
        return ms < 10 ? String.format(Locale.ROOT, "%.1f", ms) : Long.toString(Math.round(ms));
    }

    // ------------------------------------------------------------------ small helpers

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static Throwable unwrap(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static String describe(Throwable t) {
        Throwable c = unwrap(t);
        String m = c.getMessage();
        if (c instanceof ConnectException && m == null) {
            m = "connection refused";
        }
        return shorten(c.getClass().getName() + (m == null ? "" : ": " + m));
    }

    private static String shorten(String s) {
        if (s == null) {
            return null;
        }
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() <= 120 ? t : t.substring(0, 120) + "...";
    }

    /** The string value of {@code "key":"..."} in a one-line JSON object (simple search, escapes decoded). */
    static String jsonString(String json, String key) {
        String needle = "\"" + key + "\":";
        int at = json.indexOf(needle);
        if (at < 0) {
            return null;
        }
        int i = at + needle.length();
        while (i < json.length() && json.charAt(i) == ' ') {
            i++;
        }
        if (i >= json.length() || json.charAt(i) != '"') {
            return null;
        }
        StringBuilder out = new StringBuilder();
        for (i++; i < json.length(); i++) {
            char ch = json.charAt(i);
            if (ch == '"') {
                return out.toString();
            }
            if (ch == '\\' && i + 1 < json.length()) {
                char e = json.charAt(++i);
                switch (e) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        if (i + 4 < json.length()) {
                            out.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
                            i += 4;
                        }
                    }
                    default -> out.append(e);
                }
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }
}
