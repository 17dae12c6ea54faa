package io.sluice.bench;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load benchmark of Sluice's {@code POST /api/chat/stream} (API.md section 2), the benchmark of issue 9. A
 * single-file, JDK-only program ({@code java src/test/java/io/sluice/bench/LoadBench.java ...}); it is not a JUnit
 * test and the Maven build only compiles it. {@code bench.sh} beside it drives it against a Payara Micro it starts
 * itself, once per database, and prints the issue's table. The README beside it says what each scenario measures.
 *
 * <p>Parts:
 * <ul>
 *   <li>{@link FakeUpstream}: an OpenAI-compatible upstream on one NIO selector thread. Each request's answer shape
 *       ({@code [shape chunks=N interval=M]} in the user message) says how many {@code chat.completion.chunk} events
 *       it gets and the pause between them (ms, 0 = as fast as the socket takes them). A conversation-title request
 *       (its prompt quotes {@code <question>}) gets a short title at once. {@code POST /bench/finish} makes every
 *       running answer end now; {@code GET /bench/stats} reports its counters. By default it runs in a child JVM
 *       ({@code --upstream fork}), so that its sockets and CPU are not the load client's.</li>
 *   <li>{@link NioClient}: the load client. Raw HTTP/1.1 over non-blocking sockets on {@code --loops} selector
 *       threads (no thread per stream), with chunked transfer decoding, and an {@link SseParser} that follows the
 *       WHATWG event-stream rules for {@code event}, {@code data}, {@code id} and blank-line dispatch.</li>
 *   <li>Scenarios ({@code --scenario}): {@code load}, {@code sequential}, {@code heap}, {@code relay},
 *       {@code cold} (the load row twice on a node that has just become ready, issue 22) and {@code warmup};
 *       {@code --warmup} runs the warm-up first. Each prints its figures and appends them to
 *       {@code --results} (JSON). {@code --report} prints the issue's Markdown table from that file and writes an SVG
 *       chart.</li>
 * </ul>
 *
 * <p>Times are measured with {@link System#nanoTime()} in this process and reported in milliseconds; text is
 * counted in UTF-16 code units (API.md section 3). Exit status: 0 when the scenario had no failure, 1 when some
 * stream failed or was refused, 2 on a usage or set-up error.
 */
public final class LoadBench {

    static final String USAGE = """
            usage: java src/test/java/io/sluice/bench/LoadBench.java [options]
            scenario:
              --scenario NAME         load (default) | sequential | heap | relay | cold | warmup
              --warmup                run the warm-up before the scenario (bench.sh does)
              --report                print the table and write the chart from --results; no load
            target:
              --base URL              Sluice root URL (default http://localhost:8080)
              --pid PID               the server JVM: sampled from /proc/PID every second; heap needs it (jcmd)
              --model NAME            model name sent to Sluice (default bench; simulated with --simulated)
              --simulated             use "model":"simulated" (no upstream; the text is not checked)
            load:
              --streams N             concurrent chat streams (default 1000)
              --ramp-seconds S        start them evenly over S seconds (default 10)
              --chunks N              chunks per answer (default 100)
              --interval-ms M         pause between chunks, ms (default 100)
              --timeout-seconds S     wait S s after the last stream should have ended (default 60)
              --header-timeout-seconds S  longest wait for response headers (default 60)
            sequential:
              --seq-requests N        pairs: one request to the upstream directly, one through Sluice (default 300)
              --seq-chunks N, --seq-interval-ms M   their answer (default 3 chunks x 5 ms)
              --seq-pause-ms M        pause after each request (default 50; lets the title stream end)
            heap:
              --heap-streams N        slow streams held open (default 2000)
              --heap-ramp-seconds S   (default 10)
              --heap-hold-seconds S   plateau before the measure (default 10)
              --heap-interval-ms M    pause between their chunks (default 1000)
            relay:
              --relay-clients K       clients, one stream each at a time (default 16)
              --relay-seconds S       how long the clients start new streams (default 20)
              --relay-chunks N        chunks per answer, no pause (default 2000)
            cold (a node that has just become ready; no probe, no settle before its first round):
              --ready-ms MS           process start to /health/ready UP, as the driver measured it (reported)
              --deployed-ms MS        process start to the first answer of GET /api/info (reported)
            warm-up:
              --warmup-streams N      streams per warm-up round (default 1000)
              --warmup-rounds R       (default 5)
              --warmup-sequential N   sequential requests after the rounds (default 50)
            upstream:
              --upstream-port P       port of the fake upstream (default 18090)
              --upstream MODE         fork (child JVM, default) | inline (this JVM) | none (already running)
              --upstream-pid PID      with --upstream none: its pid, to report its CPU
              --upstream-only         only run the fake upstream, until killed
            results:
              --results FILE          JSON file the figures are appended to (default target/bench/results.json)
              --no-results            do not write it
              --run-id ID             the run the figures belong to (default: a new run per invocation)
              --database NAME         the server's database, e.g. h2 or postgresql (default unknown)
              --meta KEY=VALUE        stored with the run (repeatable)
              --runs ID,ID            --report: these runs (default: the latest run of each database)
              --chart FILE            --report: the SVG (default target/bench/chart.svg)
              --table-out FILE        --report: the Markdown too (default target/bench/table.md)
            other:
              --loops N               selector threads of the load client (default 2)
              --no-probe              skip the probe stream
              --no-settle             do not wait for the server to be idle before a scenario
              --settle-seconds S      longest wait for it (default 90)
              --quiet                 no per-second progress lines
            """;

    // ------------------------------------------------------------------ options

    /** The command line; every value has a default (see {@link #USAGE}). */
    static final class Options {
        String scenario = "load";
        boolean warmup;
        boolean report;
        String base = "http://localhost:8080";
        long pid = -1;
        String model;
        boolean simulated;
        int streams = 1000;
        double rampSeconds = 10;
        int chunks = 100;
        int intervalMs = 100;
        int timeoutSeconds = 60;
        int headerTimeoutSeconds = 60;
        int seqRequests = 300;
        int seqChunks = 3;
        int seqIntervalMs = 5;
        int seqPauseMs = 50;
        int heapStreams = 2000;
        double heapRampSeconds = 10;
        int heapHoldSeconds = 10;
        int heapIntervalMs = 1000;
        int relayClients = 16;
        int relaySeconds = 20;
        int relayChunks = 2000;
        int warmupStreams = 1000;
        int warmupRounds = 5;
        int warmupSequential = 50;
        long readyMs = -1;
        long deployedMs = -1;
        int upstreamPort = 18090;
        String upstream = "fork";
        long upstreamPid = -1;
        boolean upstreamOnly;
        boolean exitOnStdinEof;
        String results = "target/bench/results.json";
        boolean writeResults = true;
        String runId;
        String database = "unknown";
        final Map<String, String> meta = new LinkedHashMap<>();
        List<String> runs = List.of();
        String chart = "target/bench/chart.svg";
        String tableOut = "target/bench/table.md";
        int loops = 2;
        boolean probe = true;
        boolean settle = true;
        int settleSeconds = 90;
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
                    case "--warmup" -> o.warmup = true;
                    case "--report" -> o.report = true;
                    case "--simulated" -> o.simulated = true;
                    case "--upstream-only" -> o.upstreamOnly = true;
                    case "--exit-on-stdin-eof" -> o.exitOnStdinEof = true;
                    case "--no-results" -> o.writeResults = false;
                    case "--no-probe" -> o.probe = false;
                    case "--no-settle" -> o.settle = false;
                    case "--quiet" -> o.quiet = true;
                    default -> {
                        if (value == null) {
                            if (i + 1 >= args.length) {
                                throw new IllegalArgumentException("missing value after " + a);
                            }
                            value = args[++i];
                        }
                        o.set(a, value);
                    }
                }
            }
            if (!List.of("fork", "inline", "none").contains(o.upstream)) {
                throw new IllegalArgumentException("--upstream must be fork, inline or none");
            }
            if (!List.of("load", "sequential", "heap", "relay", "cold", "warmup").contains(o.scenario)) {
                throw new IllegalArgumentException("--scenario must be load, sequential, heap, relay, cold or warmup");
            }
            if (o.scenario.equals("cold")) {
                // the first round must meet the node as a load balancer would: no probe stream before it
                o.probe = false;
            }
            if (o.model == null) {
                o.model = o.simulated ? "simulated" : "bench";
            }
            return o;
        }

        private void set(String a, String value) {
            try {
                switch (a) {
                    case "--scenario" -> scenario = value;
                    case "--base" -> base = value.replaceAll("/+$", "");
                    case "--pid" -> pid = Long.parseLong(value);
                    case "--model" -> model = value;
                    case "--streams" -> streams = positive(a, value);
                    case "--ramp-seconds" -> rampSeconds = Double.parseDouble(value);
                    case "--chunks" -> chunks = positive(a, value);
                    case "--interval-ms" -> intervalMs = notNegative(a, value);
                    case "--timeout-seconds" -> timeoutSeconds = notNegative(a, value);
                    case "--header-timeout-seconds" -> headerTimeoutSeconds = positive(a, value);
                    case "--seq-requests" -> seqRequests = positive(a, value);
                    case "--seq-chunks" -> seqChunks = positive(a, value);
                    case "--seq-interval-ms" -> seqIntervalMs = notNegative(a, value);
                    case "--seq-pause-ms" -> seqPauseMs = notNegative(a, value);
                    case "--heap-streams" -> heapStreams = positive(a, value);
                    case "--heap-ramp-seconds" -> heapRampSeconds = Double.parseDouble(value);
                    case "--heap-hold-seconds" -> heapHoldSeconds = notNegative(a, value);
                    case "--heap-interval-ms" -> heapIntervalMs = positive(a, value);
                    case "--relay-clients" -> relayClients = positive(a, value);
                    case "--relay-seconds" -> relaySeconds = positive(a, value);
                    case "--relay-chunks" -> relayChunks = positive(a, value);
                    case "--warmup-streams" -> warmupStreams = notNegative(a, value);
                    case "--warmup-rounds" -> warmupRounds = notNegative(a, value);
                    case "--warmup-sequential" -> warmupSequential = notNegative(a, value);
                    case "--ready-ms" -> readyMs = Long.parseLong(value);
                    case "--deployed-ms" -> deployedMs = Long.parseLong(value);
                    case "--upstream-port" -> upstreamPort = positive(a, value);
                    case "--upstream" -> upstream = value;
                    case "--upstream-pid" -> upstreamPid = Long.parseLong(value);
                    case "--results" -> results = value;
                    case "--run-id" -> runId = value;
                    case "--database" -> database = value;
                    case "--meta" -> {
                        int eq = value.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("--meta needs KEY=VALUE");
                        }
                        meta.put(value.substring(0, eq), value.substring(eq + 1));
                    }
                    case "--runs" -> runs = Arrays.stream(value.split(",")).map(String::strip)
                            .filter(s -> !s.isEmpty()).toList();
                    case "--chart" -> chart = value;
                    case "--table-out" -> tableOut = value;
                    case "--loops" -> loops = positive(a, value);
                    case "--settle-seconds" -> settleSeconds = notNegative(a, value);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number for " + a + ": " + value);
            }
        }

        private static int positive(String name, String value) {
            int v = Integer.parseInt(value);
            if (v <= 0) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return v;
        }

        private static int notNegative(String name, String value) {
            int v = Integer.parseInt(value);
            if (v < 0) {
                throw new IllegalArgumentException(name + " must not be negative");
            }
            return v;
        }
    }

    /**
     * Runs the program.
     *
     * @param args the options of {@link #USAGE}
     * @throws Exception when the fake upstream or the report cannot be written; set-up errors exit with status 2
     */
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
        if (o.report) {
            System.exit(Report.run(o));
            return;
        }
        System.exit(new LoadBench(o).run());
    }

    // ------------------------------------------------------------------ answer shapes

    /**
     * The shape of one fake-upstream answer: {@code chunks} content chunks (one word each, cycling through
     * {@link FakeUpstream#WORDS}), the first at once and then one every {@code intervalMs} (0: no pause), then a
     * chunk with {@code finish_reason} and {@code usage}, then {@code data: [DONE]}. It travels in the user message
     * as {@link #marker()}, so that one fake upstream serves every scenario.
     */
    record Shape(int chunks, int intervalMs) {
        static final Pattern MARKER = Pattern.compile("\\[shape chunks=(\\d+) interval=(\\d+)]");

        String marker() {
            return "[shape chunks=" + chunks + " interval=" + intervalMs + "]";
        }

        /** The answer's text: the words of its chunks, concatenated. */
        String text() {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < chunks; i++) {
                b.append(FakeUpstream.WORDS[i % FakeUpstream.WORDS.length]);
            }
            return b.toString();
        }

        /** The answer's length in UTF-16 code units (the words are ASCII). */
        long expectedChars() {
            long cycle = 0;
            for (String w : FakeUpstream.WORDS) {
                cycle += w.length();
            }
            long full = chunks / FakeUpstream.WORDS.length;
            long chars = full * cycle;
            for (int i = 0; i < chunks % FakeUpstream.WORDS.length; i++) {
                chars += FakeUpstream.WORDS[i].length();
            }
            return chars;
        }

        /** How long the upstream takes to send it, ms. */
        long idealMillis() {
            return (long) chunks * intervalMs;
        }

        static Shape find(String body) {
            Matcher m = MARKER.matcher(body);
            return m.find() ? new Shape(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))) : null;
        }

        @Override
        public String toString() {
            return chunks + " chunks x " + intervalMs + " ms";
        }
    }

    // ------------------------------------------------------------------ the fake upstream

    /**
     * A fake OpenAI-compatible upstream on one NIO selector thread: paced chunks come from a timer queue, so any
     * number of slow answers costs one socket each and no thread.
     *
     * <p>{@code POST .../chat/completions} answers {@code 200 text/event-stream}, HTTP/1.1 chunked, keep-alive
     * (closed after the answer when the request says {@code Connection: close}). The answer's shape comes from the
     * {@link Shape#marker()} in the request body, else from {@code --chunks}/{@code --interval-ms}. A request whose
     * body quotes {@code <question>} is Sluice's conversation-title request (TaskPrompts) and gets a 3-word title
     * with no pause, so titles do not double the load. {@code POST /bench/finish} ends every running answer now
     * (its remaining chunks are skipped, the finish chunk and {@code [DONE]} follow) and answers
     * {@code {"finished":N}}; {@code GET /bench/stats} answers the counters as JSON.
     */
    static final class FakeUpstream implements Runnable {

        static final String[] WORDS = {"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "sluice ", "bench ",
                "stream ", "flow ", "gate "};
        /** A title answer: 3 chunks, no pause. */
        static final Shape TITLE = new Shape(3, 0);
        /** Most chunks written to one answer per turn of the loop when its shape has no pause. */
        private static final int BATCH = 32;

        private final Selector selector;
        private final ServerSocketChannel server;
        private final Shape defaultShape;
        private final ByteBuffer[] chunkBytes;
        private final ByteBuffer doneBytes = ByteBuffer.wrap(concat(httpChunk(sse("[DONE]")),
                "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        private final ByteBuffer headerBytes = ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
        private final PriorityQueue<Conn> due = new PriorityQueue<>(Comparator.comparingLong(c -> c.nextAt));
        private final Set<Conn> answering = new HashSet<>();
        private final ArrayList<Conn> ready = new ArrayList<>();
        private volatile boolean running = true;

        final AtomicLong accepted = new AtomicLong();
        final AtomicLong requests = new AtomicLong();
        final AtomicLong titles = new AtomicLong();
        final AtomicLong completed = new AtomicLong();
        final AtomicLong cut = new AtomicLong();
        final AtomicLong chunksSent = new AtomicLong();
        final AtomicLong finishedEarly = new AtomicLong();
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
            boolean closeAfter;
            int sent;
            int total;
            long intervalNanos;
            long nextAt;

            Conn(SocketChannel channel) {
                this.channel = channel;
            }
        }

        FakeUpstream(int port, Shape defaultShape) throws IOException {
            this.defaultShape = defaultShape;
            selector = Selector.open();
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress("127.0.0.1", port), 8192);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            chunkBytes = new ByteBuffer[WORDS.length];
            for (int i = 0; i < WORDS.length; i++) {
                chunkBytes[i] = ByteBuffer.wrap(httpChunk(sse("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                        + "\"created\":1700000000,\"model\":\"bench-upstream\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\"" + WORDS[i] + "\"},\"finish_reason\":null}]}")));
            }
        }

        private static ByteBuffer finalChunk(int chunks) {
            return ByteBuffer.wrap(httpChunk(sse("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                    + "\"created\":1700000000,\"model\":\"bench-upstream\",\"choices\":[{\"index\":0,"
                    + "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,"
                    + "\"completion_tokens\":" + chunks + ",\"total_tokens\":" + (chunks + 3) + "}}")));
        }

        private static String sse(String data) {
            return "data: " + data + "\n\n";
        }

        private static byte[] httpChunk(String payload) {
            byte[] p = payload.getBytes(StandardCharsets.UTF_8);
            return concat((Integer.toHexString(p.length) + "\r\n").getBytes(StandardCharsets.US_ASCII), p,
                    "\r\n".getBytes(StandardCharsets.US_ASCII));
        }

        private static byte[] concat(byte[]... parts) {
            int n = 0;
            for (byte[] p : parts) {
                n += p.length;
            }
            byte[] all = new byte[n];
            int at = 0;
            for (byte[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            return all;
        }

        void start() {
            Thread thread = new Thread(this, "fake-upstream");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() {
            running = false;
            selector.wakeup();
        }

        String summary() {
            return "accepted=" + accepted + " requests=" + requests + " titles=" + titles + " completed=" + completed
                    + " cut=" + cut + " finishedEarly=" + finishedEarly + " chunks=" + chunksSent + " peakOpen=" + peakOpen;
        }

        String statsJson() {
            return "{\"accepted\":" + accepted + ",\"requests\":" + requests + ",\"titles\":" + titles + ",\"completed\":"
                    + completed + ",\"cut\":" + cut + ",\"finishedEarly\":" + finishedEarly + ",\"chunks\":" + chunksSent
                    + ",\"open\":" + open + ",\"peakOpen\":" + peakOpen + "}";
        }

        /** {@code --upstream-only}: serves until killed (or, for a forked child, until its stdin closes). */
        static void serve(Options o) throws Exception {
            FakeUpstream up = new FakeUpstream(o.upstreamPort, new Shape(o.chunks, o.intervalMs));
            up.start();
            System.out.println("READY fake upstream on http://127.0.0.1:" + o.upstreamPort + "/v1, default answer "
                    + o.chunks + " chunks every " + o.intervalMs + " ms (or the request's [shape ...])");
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
                Thread.sleep(60_000);
                if (up.open.get() > 0) {
                    System.out.println("fake upstream: open=" + up.open + " " + up.summary());
                }
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    Conn head = due.peek();
                    if (head == null) {
                        selector.select(500);
                    } else {
                        long wait = head.nextAt - System.nanoTime();
                        if (wait <= 0) {
                            selector.selectNow();
                        } else {
                            // select's unit is the ms: round up, or the loop spins through the last millisecond
                            selector.select(Math.max(1, (wait + 999_999) / 1_000_000));
                        }
                    }
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
            boolean closeAfter = false;
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("content-length")) {
                    contentLength = Integer.parseInt(value);
                } else if (name.equalsIgnoreCase("connection") && value.equalsIgnoreCase("close")) {
                    closeAfter = true;
                }
            }
            int total = headerEnd + 4 + contentLength;
            if (c.inLength < total) {
                return;
            }
            String body = new String(c.in, headerEnd + 4, contentLength, StandardCharsets.UTF_8);
            System.arraycopy(c.in, total, c.in, 0, c.inLength - total);
            c.inLength -= total;
            int eol = head.indexOf("\r\n");
            String requestLine = eol < 0 ? head : head.substring(0, eol);
            c.closeAfter = closeAfter;
            if (requestLine.startsWith("POST /bench/finish ")) {
                reply(c, "200 OK", "{\"finished\":" + finishAll() + "}");
                return;
            }
            if (requestLine.startsWith("GET /bench/stats ")) {
                reply(c, "200 OK", statsJson());
                return;
            }
            if (!requestLine.startsWith("POST ") || !requestLine.contains("/chat/completions")) {
                reply(c, "404 Not Found", "{\"error\":{\"message\":\"no such path\"}}");
                return;
            }
            requests.incrementAndGet();
            boolean title = body.contains("<question>") || body.contains("\\u003cquestion");
            Shape shape = title ? TITLE : Shape.find(body);
            if (title) {
                titles.incrementAndGet();
            }
            if (shape == null) {
                shape = defaultShape;
            }
            peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
            c.streaming = true;
            answering.add(c);
            c.sent = 0;
            c.total = shape.chunks();
            c.intervalNanos = TimeUnit.MILLISECONDS.toNanos(shape.intervalMs());
            c.nextAt = System.nanoTime();
            c.out.add(headerBytes.duplicate());
            schedule(c);
        }

        private void reply(Conn c, String status, String json) {
            byte[] b = json.getBytes(StandardCharsets.UTF_8);
            c.out.add(ByteBuffer.wrap(("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + b.length + "\r\n" + (c.closeAfter ? "Connection: close\r\n" : "") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            c.out.add(ByteBuffer.wrap(b));
            if (flush(c) && c.closeAfter) {
                close(c);
            }
        }

        /** Ends every running answer now: their finish chunk is due at once. */
        private int finishAll() {
            int n = 0;
            long now = System.nanoTime();
            for (Conn c : answering) {
                if (c.streaming && !c.closed && c.sent < c.total) {
                    c.total = c.sent;
                    if (c.queued) {
                        due.remove(c);
                        c.queued = false;
                    }
                    c.nextAt = now;
                    schedule(c);
                    n++;
                }
            }
            finishedEarly.addAndGet(n);
            return n;
        }

        private void schedule(Conn c) {
            if (!c.queued && !c.closed && c.streaming && (c.key.interestOps() & SelectionKey.OP_WRITE) == 0) {
                c.queued = true;
                due.add(c);
            }
        }

        private void tick() {
            long now = System.nanoTime();
            Conn c;
            ready.clear();
            while ((c = due.peek()) != null && c.nextAt <= now) {
                due.poll();
                c.queued = false;
                ready.add(c);
            }
            for (Conn r : ready) {
                step(r, now);
            }
        }

        /** Sends what is due on {@code c}: one chunk, or up to {@link #BATCH} when its shape has no pause. */
        private void step(Conn c, long now) {
            if (c.closed || !c.streaming) {
                return;
            }
            if (c.sent < c.total) {
                int n = c.intervalNanos == 0 ? BATCH : 1;
                for (int i = 0; i < n && c.sent < c.total; i++) {
                    c.out.add(chunkBytes[c.sent % chunkBytes.length].duplicate());
                    c.sent++;
                    chunksSent.incrementAndGet();
                }
                c.nextAt = c.intervalNanos == 0 ? now : Math.max(c.nextAt + c.intervalNanos, now - c.intervalNanos);
            } else {
                c.out.add(finalChunk(c.total));
                c.out.add(doneBytes.duplicate());
                c.streaming = false;
                answering.remove(c);
                completed.incrementAndGet();
                open.decrementAndGet();
            }
            if (flush(c)) {
                if (c.streaming) {
                    schedule(c);
                } else if (c.closeAfter) {
                    close(c);
                } else if (c.inLength > 0) {
                    nextRequest(c);
                }
            }
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
                    if (c.streaming) {
                        schedule(c); // was held back while the socket was full
                    } else if (c.closeAfter) {
                        close(c);
                        return false;
                    }
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
                answering.remove(c);
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

    /** The fake upstream in a child JVM: its own file descriptor table and its own CPU, reported apart. */
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

    // ------------------------------------------------------------------ the load client: raw HTTP/1.1 over NIO

    /** How an exchange ended without a complete response. */
    enum Failure {
        /** the socket could not be opened in this process (e.g. EMFILE): the bench's fault, not the server's */
        CLIENT,
        /** connect() failed (refused, unreachable, timed out) */
        CONNECT,
        /** read or write failed (connection reset, broken pipe) */
        RESET,
        /** the server closed the connection before the response was complete */
        EOF,
        /** no response headers within --header-timeout-seconds */
        HEADER_TIMEOUT,
        /** the response could not be parsed */
        PROTOCOL,
        /** the bench gave up on it (its deadline passed) */
        ABANDONED
    }

    /**
     * One HTTP/1.1 request on its own connection, and the parsing of its response: status line, headers, then a
     * body that is chunked (RFC 9112 section 7.1), {@code Content-Length}-delimited, or delimited by the connection's
     * end. A subclass gets the callbacks, all on its {@link Loop}'s thread, in this order: {@link #onHeaders} once
     * (not for 1xx), {@link #onBody} for each piece of the decoded body, then exactly one of {@link #onComplete} and
     * {@link #onFailure}.
     */
    abstract static class Exchange {
        private static final int P_STATUS = 0;
        private static final int P_HEADERS = 1;
        private static final int P_CHUNK_SIZE = 2;
        private static final int P_CHUNK_DATA = 3;
        private static final int P_CHUNK_END = 4;
        private static final int P_TRAILERS = 5;
        private static final int P_LENGTH = 6;
        private static final int P_UNTIL_EOF = 7;
        private static final int MAX_LINE = 16 * 1024;

        final InetSocketAddress address;
        final ByteBuffer request;
        /** when the bench decided to send it ({@link NioClient#start}), System.nanoTime() */
        volatile long sendNanos;
        Loop loop;
        SocketChannel channel;
        SelectionKey key;
        private int phase = P_STATUS;
        private byte[] line = new byte[128];
        private int lineLength;
        private boolean interim;
        private boolean headersDone;
        private long remaining;
        private boolean chunked;
        private long contentLength = -1;
        /** the response status, -1 until the headers are in */
        int status = -1;
        String contentType;
        String retryAfter;
        boolean finished;
        /** when set, the loop closes the connection at this time even if the body goes on, System.nanoTime() */
        long closeAt;

        Exchange(InetSocketAddress address, byte[] request) {
            this.address = address;
            this.request = ByteBuffer.wrap(request);
        }

        abstract void onHeaders(long now);

        abstract void onBody(byte[] b, int off, int len, long now);

        abstract void onComplete(long now);

        abstract void onFailure(Failure failure, String detail, long now);

        /** Asks the loop to close the connection within {@code graceMillis}, whatever still comes. */
        final void closeWithin(long now, long graceMillis) {
            closeAt = now + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        }

        /** Parses response bytes; returns true once the response is complete. */
        final boolean feed(byte[] b, int off, int len, long now) {
            int i = off;
            int end = off + len;
            while (i < end && !finished) {
                switch (phase) {
                    case P_CHUNK_DATA, P_LENGTH -> {
                        int n = (int) Math.min(remaining, end - i);
                        onBody(b, i, n, now);
                        i += n;
                        remaining -= n;
                        if (remaining == 0) {
                            if (phase == P_LENGTH) {
                                return true;
                            }
                            phase = P_CHUNK_END;
                        }
                    }
                    case P_UNTIL_EOF -> {
                        onBody(b, i, end - i, now);
                        i = end;
                    }
                    default -> {
                        int lf = i;
                        while (lf < end && b[lf] != '\n') {
                            lf++;
                        }
                        int n = lf - i;
                        if (lineLength + n > MAX_LINE) {
                            throw new IllegalStateException("response line longer than " + MAX_LINE + " bytes");
                        }
                        if (lineLength + n > line.length) {
                            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + n));
                        }
                        System.arraycopy(b, i, line, lineLength, n);
                        lineLength += n;
                        i = lf;
                        if (lf == end) {
                            break;
                        }
                        i++;
                        int l = lineLength;
                        if (l > 0 && line[l - 1] == '\r') {
                            l--;
                        }
                        lineLength = 0;
                        if (line(l, now)) {
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /** One line of the status, headers, chunk framing or trailers; true when the response is complete. */
        private boolean line(int l, long now) {
            switch (phase) {
                case P_STATUS -> {
                    if (l == 0) {
                        return false; // tolerated before the status line (RFC 9112 section 2.2)
                    }
                    if (l < 12 || line[0] != 'H' || line[1] != 'T' || line[8] != ' ') {
                        throw new IllegalStateException("not an HTTP/1.x status line: "
                                + new String(line, 0, Math.min(l, 60), StandardCharsets.ISO_8859_1));
                    }
                    int s = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
                    interim = s >= 100 && s < 200;
                    if (!interim) {
                        status = s;
                    }
                    phase = P_HEADERS;
                }
                case P_HEADERS -> {
                    if (l > 0) {
                        header(l);
                        return false;
                    }
                    if (interim) {
                        phase = P_STATUS;
                        return false;
                    }
                    headersDone = true;
                    onHeaders(now);
                    if (status == 204 || status == 304 || (!chunked && contentLength == 0)) {
                        return true;
                    }
                    if (chunked) {
                        phase = P_CHUNK_SIZE;
                    } else if (contentLength > 0) {
                        phase = P_LENGTH;
                        remaining = contentLength;
                    } else {
                        phase = P_UNTIL_EOF;
                    }
                }
                case P_CHUNK_SIZE -> {
                    long size = 0;
                    int digits = 0;
                    for (int k = 0; k < l; k++) {
                        int d = Character.digit(line[k], 16);
                        if (d < 0) {
                            break; // ';' chunk extensions, or trailing whitespace
                        }
                        size = size * 16 + d;
                        digits++;
                    }
                    if (digits == 0) {
                        throw new IllegalStateException("bad chunk size line");
                    }
                    if (size == 0) {
                        phase = P_TRAILERS;
                    } else {
                        remaining = size;
                        phase = P_CHUNK_DATA;
                    }
                }
                case P_CHUNK_END -> {
                    if (l != 0) {
                        throw new IllegalStateException("no CRLF after chunk data");
                    }
                    phase = P_CHUNK_SIZE;
                }
                case P_TRAILERS -> {
                    return l == 0;
                }
                default -> throw new IllegalStateException("phase " + phase);
            }
            return false;
        }

        private void header(int l) {
            int colon = 0;
            while (colon < l && line[colon] != ':') {
                colon++;
            }
            if (colon == l) {
                return;
            }
            String name = new String(line, 0, colon, StandardCharsets.ISO_8859_1).trim().toLowerCase(Locale.ROOT);
            if (!name.equals("transfer-encoding") && !name.equals("content-length") && !name.equals("content-type")
                    && !name.equals("retry-after")) {
                return;
            }
            String value = new String(line, colon + 1, l - colon - 1, StandardCharsets.ISO_8859_1).trim();
            switch (name) {
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "content-length" -> contentLength = Long.parseLong(value);
                case "content-type" -> contentType = value;
                default -> retryAfter = value;
            }
        }

        /** The connection ended (read returned -1): complete when the body runs to the end of the connection. */
        final boolean endIsComplete() {
            return phase == P_UNTIL_EOF;
        }

        /** True once the status line and headers are in. */
        final boolean hasHeaders() {
            return headersDone;
        }
    }

    /**
     * One selector thread of the load client. It owns its exchanges: every socket operation and every callback
     * happens on this thread; other threads hand it work through {@link #execute}.
     */
    static final class Loop implements Runnable {
        private static final java.util.concurrent.atomic.AtomicBoolean FIRST_BUG = new java.util.concurrent.atomic.AtomicBoolean();
        private final Selector selector;
        private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(64 * 1024);
        private final byte[] scratch = new byte[64 * 1024];
        private final Set<Exchange> live = new HashSet<>();
        private final long headerTimeoutNanos;
        private final Thread thread;
        private volatile boolean running = true;
        private long nextSweep;

        Loop(String name, long headerTimeoutNanos) throws IOException {
            this.selector = Selector.open();
            this.headerTimeoutNanos = headerTimeoutNanos;
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
            thread.start();
        }

        void execute(Runnable r) {
            tasks.add(r);
            selector.wakeup();
        }

        void shutdown() throws InterruptedException {
            running = false;
            selector.wakeup();
            thread.join(5000);
        }

        @Override
        public void run() {
            while (running) {
                try {
                    selector.select(100);
                } catch (IOException e) {
                    System.err.println("client selector failed: " + e);
                    return;
                }
                var keys = selector.selectedKeys();
                for (var it = keys.iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    Exchange x = (Exchange) k.attachment();
                    try {
                        handle(k, x);
                    } catch (RuntimeException e) {
                        if (!(e instanceof IllegalStateException || e instanceof NumberFormatException)
                                && FIRST_BUG.compareAndSet(false, true)) {
                            e.printStackTrace(); // a bug of the bench: shown once, and counted as a failure
                        }
                        fail(x, Failure.PROTOCOL, e.toString());
                    }
                }
                Runnable r;
                while ((r = tasks.poll()) != null) {
                    r.run();
                }
                long now = System.nanoTime();
                if (now - nextSweep >= 0) {
                    sweep(now);
                    nextSweep = now + TimeUnit.MILLISECONDS.toNanos(200);
                }
            }
            for (Exchange x : new ArrayList<>(live)) {
                fail(x, Failure.ABANDONED, "client shut down");
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        /** Opens the exchange's connection (on this thread). */
        void open(Exchange x) {
            SocketChannel ch;
            try {
                ch = SocketChannel.open();
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                x.finished = true;
                x.onFailure(Failure.CLIENT, describe(e), System.nanoTime());
                return;
            }
            x.channel = ch;
            live.add(x);
            try {
                boolean connected = ch.connect(x.address);
                x.key = ch.register(selector, connected ? SelectionKey.OP_WRITE | SelectionKey.OP_READ
                        : SelectionKey.OP_CONNECT, x);
                if (connected) {
                    write(x);
                }
            } catch (IOException e) {
                fail(x, Failure.CONNECT, describe(e));
            }
        }

        private void handle(SelectionKey k, Exchange x) {
            if (!k.isValid() || x.finished) {
                return;
            }
            if (k.isConnectable()) {
                try {
                    if (!x.channel.finishConnect()) {
                        return;
                    }
                } catch (IOException e) {
                    fail(x, Failure.CONNECT, describe(e));
                    return;
                }
                k.interestOps(SelectionKey.OP_WRITE | SelectionKey.OP_READ);
            }
            if (k.isValid() && k.isWritable()) {
                write(x);
            }
            if (k.isValid() && k.isReadable() && !x.finished) {
                read(x);
            }
        }

        private void write(Exchange x) {
            try {
                x.channel.write(x.request);
                if (!x.request.hasRemaining()) {
                    x.key.interestOps(SelectionKey.OP_READ);
                }
            } catch (IOException e) {
                fail(x, Failure.RESET, describe(e));
            }
        }

        private void read(Exchange x) {
            for (int rounds = 0; rounds < 16; rounds++) {
                readBuffer.clear();
                int n;
                try {
                    n = x.channel.read(readBuffer);
                } catch (IOException e) {
                    fail(x, Failure.RESET, describe(e));
                    return;
                }
                long now = System.nanoTime();
                if (n < 0) {
                    if (x.endIsComplete()) {
                        complete(x, now);
                    } else {
                        fail(x, Failure.EOF, "the server closed the connection");
                    }
                    return;
                }
                if (n == 0) {
                    return;
                }
                readBuffer.flip();
                readBuffer.get(scratch, 0, n);
                if (x.feed(scratch, 0, n, now)) {
                    complete(x, now);
                    return;
                }
                if (x.finished) {
                    return;
                }
            }
        }

        private void complete(Exchange x, long now) {
            if (x.finished) {
                return;
            }
            x.finished = true;
            close(x);
            x.onComplete(now);
        }

        /** Ends the exchange with a failure, once, and closes its connection. */
        void fail(Exchange x, Failure failure, String detail) {
            if (x.finished) {
                return;
            }
            x.finished = true;
            close(x);
            x.onFailure(failure, detail, System.nanoTime());
        }

        private void close(Exchange x) {
            live.remove(x);
            if (x.key != null) {
                x.key.cancel();
            }
            try {
                if (x.channel != null) {
                    x.channel.close();
                }
            } catch (IOException ignored) {
                // closing anyway
            }
        }

        private void sweep(long now) {
            List<Exchange> expired = null;
            for (Exchange x : live) {
                if ((x.closeAt != 0 && now - x.closeAt >= 0)
                        || (!x.hasHeaders() && now - x.sendNanos > headerTimeoutNanos)) {
                    if (expired == null) {
                        expired = new ArrayList<>();
                    }
                    expired.add(x);
                }
            }
            if (expired != null) {
                for (Exchange x : expired) {
                    if (x.closeAt != 0) {
                        x.finished = true; // its result is already recorded: close quietly
                        close(x);
                    } else {
                        fail(x, Failure.HEADER_TIMEOUT, "no response headers within "
                                + TimeUnit.NANOSECONDS.toSeconds(headerTimeoutNanos) + " s");
                    }
                }
            }
        }
    }

    /** The load client: {@code --loops} selector threads; exchanges are spread over them round robin. */
    static final class NioClient {
        private final Loop[] loops;
        private final AtomicInteger next = new AtomicInteger();

        NioClient(int loops, int headerTimeoutSeconds) throws IOException {
            this.loops = new Loop[loops];
            for (int i = 0; i < loops; i++) {
                this.loops[i] = new Loop("bench-client-" + (i + 1), TimeUnit.SECONDS.toNanos(headerTimeoutSeconds));
            }
        }

        /** Sends the exchange; its {@code sendNanos} is now. Callable from any thread. */
        void start(Exchange x) {
            Loop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
            x.loop = loop;
            x.sendNanos = System.nanoTime();
            loop.execute(() -> loop.open(x));
        }

        /** Ends the exchange as {@link Failure#ABANDONED} unless it ended already. Callable from any thread. */
        void abandon(Exchange x, String detail) {
            Loop loop = x.loop;
            if (loop != null) {
                loop.execute(() -> loop.fail(x, Failure.ABANDONED, detail));
            }
        }

        /** Stops the loops; exchanges still open end as {@link Failure#ABANDONED}. */
        void close() {
            try {
                for (Loop l : loops) {
                    l.shutdown();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * An event-stream parser following the WHATWG HTML rules (section 9.2.6, "Interpreting an event stream") for
     * what the bench needs: lines end in CRLF, LF or CR; a leading UTF-8 BOM is skipped; {@code :} starts a
     * comment; a line without a colon is a field with an empty value; one space after the colon is dropped;
     * {@code event} sets the type, {@code data} appends its value and a LF, {@code id} sets the last event id
     * (unless it holds NUL), {@code retry} and unknown fields are ignored; a blank line dispatches the event when
     * the data buffer is not empty (without its last LF, with type {@code message} when none was set) and then
     * resets type and data. An event not ended by a blank line when the stream ends is dropped. The data is handed
     * over as bytes (UTF-8), not decoded.
     */
    static final class SseParser {
        /** Receives dispatched events; {@code data[0..length)} is only valid during the call. */
        interface Handler {
            void onEvent(String type, byte[] data, int length, long now);
        }

        private static final String[] KNOWN = {"message", "stream", "done", "error", "stopped", "ping"};
        private byte[] line = new byte[128];
        private int lineLength;
        private boolean lastWasCr;
        private boolean started;
        private String type;
        private byte[] data = new byte[128];
        private int dataLength;
        /** the last event id field's value, or null */
        String lastEventId;

        void feed(byte[] b, int off, int len, long now, Handler h) {
            int i = off;
            int end = off + len;
            if (!started && i < end) {
                if (len >= 3 && (b[i] & 0xFF) == 0xEF && (b[i + 1] & 0xFF) == 0xBB && (b[i + 2] & 0xFF) == 0xBF) {
                    i += 3;
                }
                started = true;
            }
            while (i < end) {
                if (lastWasCr) {
                    lastWasCr = false;
                    if (b[i] == '\n') {
                        i++;
                        continue;
                    }
                }
                int j = i;
                while (j < end && b[j] != '\n' && b[j] != '\r') {
                    j++;
                }
                int n = j - i;
                if (n > 0) {
                    if (lineLength + n > line.length) {
                        line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + n));
                    }
                    System.arraycopy(b, i, line, lineLength, n);
                    lineLength += n;
                }
                if (j == end) {
                    return;
                }
                lastWasCr = b[j] == '\r';
                i = j + 1;
                processLine(now, h);
                lineLength = 0;
            }
        }

        private void processLine(long now, Handler h) {
            if (lineLength == 0) {
                dispatch(now, h);
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
            int valueLength = lineLength - valueStart;
            if (is("data", colon)) {
                if (dataLength + valueLength + 1 > data.length) {
                    data = Arrays.copyOf(data, Math.max(data.length * 2, dataLength + valueLength + 1));
                }
                System.arraycopy(line, valueStart, data, dataLength, valueLength);
                dataLength += valueLength;
                data[dataLength++] = '\n';
            } else if (is("event", colon)) {
                type = name(valueStart, valueLength);
            } else if (is("id", colon)) {
                boolean nul = false;
                for (int k = valueStart; k < lineLength; k++) {
                    nul |= line[k] == 0;
                }
                if (!nul) {
                    lastEventId = new String(line, valueStart, valueLength, StandardCharsets.UTF_8);
                }
            }
        }

        private void dispatch(long now, Handler h) {
            if (dataLength == 0) {
                type = null;
                return;
            }
            String t = type == null || type.isEmpty() ? "message" : type;
            int length = dataLength - 1;
            type = null;
            dataLength = 0;
            h.onEvent(t, data, length, now);
        }

        private boolean is(String field, int length) {
            if (length != field.length()) {
                return false;
            }
            for (int k = 0; k < length; k++) {
                if (line[k] != field.charAt(k)) {
                    return false;
                }
            }
            return true;
        }

        private String name(int start, int length) {
            outer:
            for (String k : KNOWN) {
                if (k.length() != length) {
                    continue;
                }
                for (int i = 0; i < length; i++) {
                    if (line[start + i] != k.charAt(i)) {
                        continue outer;
                    }
                }
                return k;
            }
            return new String(line, start, length, StandardCharsets.UTF_8);
        }
    }

    /**
     * Counts the UTF-16 code units of the JSON string value of {@code "key":"..."} in {@code data[0..length)},
     * without decoding it: an escape is one unit ({@code \}{@code uD83D\}{@code uDE00} is two escapes, two
     * units), a 4-byte UTF-8 sequence two units, any other sequence one. Returns -1 when the key is absent; sets
     * {@code latin1[0]} to false when a unit above U+00FF occurs.
     */
    static long jsonStringUnits(byte[] data, int length, byte[] key, boolean[] latin1) {
        int at = indexOf(data, length, key, 0);
        if (at < 0) {
            return -1;
        }
        int i = at + key.length;
        while (i < length && data[i] == ' ') {
            i++;
        }
        if (i >= length || data[i] != '"') {
            return -1;
        }
        long units = 0;
        for (i++; i < length; i++) {
            int c = data[i] & 0xFF;
            if (c == '"') {
                return units;
            }
            if (c == '\\') {
                if (i + 1 < length && data[i + 1] == 'u' && i + 5 < length) {
                    int v = Integer.parseInt(new String(data, i + 2, 4, StandardCharsets.US_ASCII), 16);
                    if (v > 0xFF) {
                        latin1[0] = false;
                    }
                    i += 5;
                } else {
                    i++;
                }
                units++;
            } else if (c < 0x80) {
                units++;
            } else if (c >= 0xC0) { // a lead byte; continuation bytes (10xxxxxx) add nothing
                units += c >= 0xF0 ? 2 : 1;
                if (c >= 0xC4) {
                    latin1[0] = false; // C2 and C3 encode U+0080..U+00FF
                }
            }
        }
        return units;
    }

    static int indexOf(byte[] data, int length, byte[] needle, int from) {
        outer:
        for (int i = from; i + needle.length <= length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (data[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ------------------------------------------------------------------ chat streams and their figures

    /** How a chat stream ended, as the issue's table counts it. */
    enum Outcome {
        /** a {@code done} event, with exactly the upstream's text */
        COMPLETED("completed"),
        /** HTTP 503 (the admission limit), whatever its headers; the reasons say if Retry-After or problem+json lacked */
        REFUSED_503("refused503"),
        /** another HTTP status, or a 200 that is not an event stream */
        OTHER_HTTP("otherHttp"),
        /** connection refused, reset, closed or timed out before any response */
        DROPPED("dropped"),
        /** a 200 event stream that ended (or was abandoned) without a terminal event */
        NO_TERMINAL("noTerminal"),
        /** an {@code error} or {@code stopped} terminal event */
        ERROR_EVENT("errorEvent"),
        /** {@code done}, but the text differs from what the upstream sent */
        TEXT_MISMATCH("textMismatch"),
        /** the bench could not open a socket (its own limits): the run does not measure the server */
        CLIENT_ERROR("clientError");

        final String key;

        Outcome(String key) {
            this.key = key;
        }
    }

    /** Where Sluice is: the address to connect to, the Host header and the path prefix of {@code --base}. */
    record Target(InetSocketAddress address, String host, String prefix) {
        static Target of(String base) throws IOException {
            URI u = URI.create(base);
            if (!"http".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("--base must be http://host[:port][/path], got " + base);
            }
            int port = u.getPort() < 0 ? 80 : u.getPort();
            String path = u.getRawPath() == null ? "" : u.getRawPath().replaceAll("/+$", "");
            return new Target(new InetSocketAddress(InetAddress.getByName(u.getHost()), port),
                    u.getHost() + (u.getPort() < 0 ? "" : ":" + port), path);
        }

        byte[] post(String path, String json, String accept) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            byte[] head = ("POST " + prefix + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n"
                    + "Accept: " + accept + "\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] all = Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }
    }

    private static final byte[] DELTA_KEY = "\"delta\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REASONING_KEY = "\"reasoning\":".getBytes(StandardCharsets.US_ASCII);

    /** One {@code POST /api/chat/stream} and what it measured. Its state is touched only by its loop's thread. */
    static final class ChatStream extends Exchange implements SseParser.Handler {
        final Run run;
        final int index;
        final Shape shape;
        private SseParser sse;
        private StringBuilder otherBody;
        final StringBuilder probeText;
        boolean opened;
        boolean recorded;
        /** how it ended; set when recorded */
        Outcome outcome;
        long headersNanos = -1;
        long firstMessage = -1;
        long lastMessage = -1;
        long longestGap;
        int messages;
        /** UTF-16 code units of delta and reasoning text received so far (read by the heap scenario) */
        volatile long textChars;
        final boolean[] latin1 = {true};

        ChatStream(Run run, int index, Shape shape, byte[] request) {
            super(run.target.address(), request);
            this.run = run;
            this.index = index;
            this.shape = shape;
            this.probeText = run.probe ? new StringBuilder() : null;
        }

        /** The text's size as a Java String holds it: 1 byte per code unit when all are Latin-1, else 2. */
        long textBytes() {
            long chars = textChars;
            return latin1[0] ? chars : 2 * chars;
        }

        @Override
        void onHeaders(long now) {
            headersNanos = now;
            run.headers.incrementAndGet();
            if (status == 200 && contentType != null && contentType.startsWith("text/event-stream")) {
                sse = new SseParser();
                opened = true;
                run.peakOpen.accumulateAndGet(run.open.incrementAndGet(), Math::max);
            } else {
                otherBody = new StringBuilder();
            }
        }

        @Override
        void onBody(byte[] b, int off, int len, long now) {
            if (sse != null) {
                run.bodyBytes.add(len);
                sse.feed(b, off, len, now, this);
            } else if (otherBody.length() < 300) {
                otherBody.append(new String(b, off, Math.min(len, 300), StandardCharsets.UTF_8));
            }
        }

        @Override
        public void onEvent(String type, byte[] data, int length, long now) {
            if (recorded) {
                return;
            }
            switch (type) {
                case "message" -> {
                    messages++;
                    run.messages.increment();
                    if (firstMessage < 0) {
                        firstMessage = now;
                        run.streaming.incrementAndGet();
                    } else {
                        longestGap = Math.max(longestGap, now - lastMessage);
                    }
                    lastMessage = now;
                    long units = Math.max(0, jsonStringUnits(data, length, DELTA_KEY, latin1))
                            + Math.max(0, jsonStringUnits(data, length, REASONING_KEY, latin1));
                    if (units > 0) {
                        textChars += units;
                    }
                    if (probeText != null) {
                        String delta = jsonString(new String(data, 0, length, StandardCharsets.UTF_8), "delta");
                        if (delta != null) {
                            probeText.append(delta);
                        }
                    }
                }
                case "ping" -> run.pings.increment();
                case "done" -> {
                    if (shape != null && run.checkText && textChars != shape.expectedChars()) {
                        run.record(this, Outcome.TEXT_MISMATCH, "text_mismatch", "got " + textChars
                                + " UTF-16 code units, the upstream sent " + shape.expectedChars(), now);
                    } else {
                        run.record(this, Outcome.COMPLETED, "completed", null, now);
                    }
                    closeWithin(now, 2000);
                }
                case "error", "stopped" -> {
                    String json = new String(data, 0, length, StandardCharsets.UTF_8);
                    String reason = type.equals("error") ? "error:" + jsonString(json, "code")
                            : "stopped:" + jsonString(json, "reason");
                    run.record(this, Outcome.ERROR_EVENT, reason, shorten(json), now);
                    closeWithin(now, 2000);
                }
                default -> {
                    // "stream", and events this bench does not know
                }
            }
        }

        @Override
        void onComplete(long now) {
            if (!recorded) {
                endWithoutTerminal(null, null, now);
            }
        }

        @Override
        void onFailure(Failure failure, String detail, long now) {
            if (!recorded) {
                endWithoutTerminal(failure, detail, now);
            }
        }

        private void endWithoutTerminal(Failure f, String detail, long now) {
            if (!hasHeaders()) {
                if (f == Failure.CLIENT) {
                    run.record(this, Outcome.CLIENT_ERROR, "client:" + detail, detail, now);
                    return;
                }
                String reason = f == null ? "end_before_response" : switch (f) {
                    case CONNECT -> "connect:" + detail;
                    case RESET -> "reset_before_response";
                    case EOF -> "eof_before_response";
                    case HEADER_TIMEOUT -> "timeout:no_response_headers";
                    case PROTOCOL -> "protocol_error";
                    default -> "abandoned:no_response_headers";
                };
                run.record(this, Outcome.DROPPED, reason, detail, now);
            } else if (status == 503) {
                String reason = "http_503";
                if (retryAfter == null) {
                    reason += "_without_retry_after";
                }
                if (contentType == null || !contentType.startsWith("application/problem+json")) {
                    reason += "_not_problem_json";
                }
                run.record(this, Outcome.REFUSED_503, reason, shorten(otherBody == null ? null : otherBody.toString()), now);
            } else if (sse == null) {
                run.record(this, Outcome.OTHER_HTTP, status == 200 ? "http_200_not_event_stream" : "http_" + status,
                        shorten(otherBody == null ? contentType : otherBody.toString()), now);
            } else {
                String reason = f == null ? "end_without_terminal" : switch (f) {
                    case RESET -> "reset_after_headers";
                    case EOF -> "eof_after_headers";
                    case ABANDONED -> "abandoned:open_without_terminal";
                    default -> "protocol_error_after_headers";
                };
                run.record(this, Outcome.NO_TERMINAL, reason, detail, now);
            }
        }
    }

    /** A growable list of longs (nanoseconds). */
    static final class LongList {
        private long[] a = new long[64];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        long[] sorted() {
            long[] s = Arrays.copyOf(a, n);
            Arrays.sort(s);
            return s;
        }

        int size() {
            return n;
        }

        long get(int i) {
            return a[i];
        }
    }

    /**
     * A batch of chat streams and their figures: counters for the per-second progress line, distributions of
     * first-token time, longest gap, duration and time to a 503, outcome and reason counts.
     */
    static final class Run {
        final String label;
        final Target target;
        final NioClient client;
        final String model;
        final boolean probe;
        final AtomicInteger started = new AtomicInteger();
        final AtomicInteger headers = new AtomicInteger();
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger peakOpen = new AtomicInteger();
        /** streams that got their first message event and have not ended */
        final AtomicInteger streaming = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicInteger ended = new AtomicInteger();
        final LongAdder messages = new LongAdder();
        final LongAdder pings = new LongAdder();
        final LongAdder bodyBytes = new LongAdder();
        final EnumMap<Outcome, AtomicInteger> outcomes = new EnumMap<>(Outcome.class);
        final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();
        final Map<String, String> reasonSamples = new ConcurrentHashMap<>();
        final Set<ChatStream> live = ConcurrentHashMap.newKeySet();
        private final LongList ttft = new LongList();
        private final LongList gap = new LongList();
        private final LongList duration = new LongList();
        private final LongList refusal = new LongList();
        private long completedMessages;
        private long completedChars;
        private long firstSend = Long.MAX_VALUE;
        private long lastEnd = Long.MIN_VALUE;
        private int launched;
        private int recorded;
        private boolean launching = true;
        /** whether {@code done} must come with exactly the shape's text */
        volatile boolean checkText = true;
        /** called on the loop thread after each stream is recorded (the relay starts the next one) */
        volatile Consumer<ChatStream> afterRecord;

        Run(String label, Target target, NioClient client, String model, boolean probe) {
            this.label = label;
            this.target = target;
            this.client = client;
            this.model = model;
            this.probe = probe;
            for (Outcome o : Outcome.values()) {
                outcomes.put(o, new AtomicInteger());
            }
        }

        /** Starts stream {@code index}; null once {@link #stopLaunching()} was called. */
        ChatStream launch(int index, Shape shape) {
            synchronized (this) {
                if (!launching) {
                    return null;
                }
                launched++;
            }
            String message = (probe ? "bench probe" : "bench " + label + " " + index)
                    + (shape == null ? "" : " " + shape.marker());
            byte[] request = target.post("/api/chat/stream", "{\"message\":\"" + message + "\",\"model\":\""
                    + model.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}", "text/event-stream");
            ChatStream s = new ChatStream(this, index, shape, request);
            live.add(s);
            started.incrementAndGet();
            client.start(s);
            return s;
        }

        synchronized void stopLaunching() {
            launching = false;
            notifyAll();
        }

        synchronized int launched() {
            return launched;
        }

        /** Waits until {@code count} streams are recorded, or the deadline (System.nanoTime()) passes. */
        synchronized boolean awaitRecorded(int count, long deadline) throws InterruptedException {
            while (recorded < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        /** Waits until launching stopped and every launched stream is recorded, or the deadline passes. */
        synchronized boolean awaitAll(long deadline) throws InterruptedException {
            while (launching || recorded < launched) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        /** Gives up on every stream not recorded yet, and waits a little for the loops to record them. */
        void abandonAll() throws InterruptedException {
            stopLaunching();
            for (ChatStream s : live) {
                client.abandon(s, "the bench's deadline passed");
            }
            awaitAll(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        }

        void record(ChatStream s, Outcome o, String reason, String detail, long now) {
            if (s.recorded) {
                return;
            }
            s.recorded = true;
            s.outcome = o;
            live.remove(s);
            if (s.opened) {
                open.decrementAndGet();
            }
            if (s.firstMessage >= 0) {
                streaming.decrementAndGet();
            }
            outcomes.get(o).incrementAndGet();
            if (o == Outcome.COMPLETED) {
                done.incrementAndGet();
            } else {
                reasons.computeIfAbsent(reason, k -> new LongAdder()).increment();
                if (detail != null) {
                    reasonSamples.putIfAbsent(reason, shorten(detail));
                }
            }
            ended.incrementAndGet();
            synchronized (this) {
                if (s.firstMessage >= 0) {
                    ttft.add(s.firstMessage - s.sendNanos);
                }
                if (s.messages >= 2) {
                    gap.add(s.longestGap);
                }
                if (o == Outcome.COMPLETED) {
                    duration.add(now - s.sendNanos);
                    completedMessages += s.messages;
                    completedChars += s.textChars;
                }
                if (o == Outcome.REFUSED_503 && s.headersNanos > 0) {
                    refusal.add(s.headersNanos - s.sendNanos);
                }
                firstSend = Math.min(firstSend, s.sendNanos);
                lastEnd = Math.max(lastEnd, now);
                recorded++;
                notifyAll();
            }
            Consumer<ChatStream> after = afterRecord;
            if (after != null) {
                after.accept(s);
            }
        }

        int failed() {
            return ended.get() - done.get();
        }

        /** The figures common to every scenario that runs chat streams. */
        synchronized Map<String, Object> figures() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("started", started.get());
            m.put("gotHeaders", headers.get());
            m.put("completed", done.get());
            m.put("failed", failed());
            Map<String, Object> out = new LinkedHashMap<>();
            for (Outcome o : Outcome.values()) {
                out.put(o.key, outcomes.get(o).get());
            }
            m.put("outcomes", out);
            Map<String, Object> r = new TreeMap<>();
            reasons.forEach((k, v) -> r.put(k, v.sum()));
            m.put("reasons", r);
            m.put("reasonSamples", new TreeMap<>(reasonSamples));
            m.put("peakOpen", peakOpen.get());
            m.put("ttftMs", dist(ttft));
            m.put("gapMs", dist(gap));
            m.put("durationMs", dist(duration));
            m.put("refusalMs", dist(refusal));
            m.put("messages", messages.sum());
            m.put("pings", pings.sum());
            m.put("sseBytes", bodyBytes.sum());
            m.put("completedMessages", completedMessages);
            m.put("completedChars", completedChars);
            m.put("spanSeconds", lastEnd < firstSend ? 0.0 : round3((lastEnd - firstSend) / 1e9));
            return m;
        }
    }

    /** n, p50, p95, p99, max and mean of nanosecond values, in ms. */
    static Map<String, Object> dist(LongList values) {
        long[] s = values.sorted();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.length);
        if (s.length > 0) {
            double sum = 0;
            for (long v : s) {
                sum += v;
            }
            m.put("p50", round3(pick(s, 0.50) / 1e6));
            m.put("p95", round3(pick(s, 0.95) / 1e6));
            m.put("p99", round3(pick(s, 0.99) / 1e6));
            m.put("max", round3(s[s.length - 1] / 1e6));
            m.put("mean", round3(sum / s.length / 1e6));
        }
        return m;
    }

    /** The nearest-rank percentile q (0..1] of sorted values. */
    static long pick(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** The upstream called directly: the time to its first content chunk, for the sequential scenario. */
    static final class DirectStream extends Exchange implements SseParser.Handler {
        private static final byte[] CONTENT_KEY = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
        final CompletableFuture<Long> ttft = new CompletableFuture<>();
        private final SseParser sse = new SseParser();
        private long first = -1;

        DirectStream(InetSocketAddress upstream, String content) {
            super(upstream, request(upstream, content));
        }

        private static byte[] request(InetSocketAddress upstream, String content) {
            String body = "{\"model\":\"bench\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\""
                    + content + "\"}]}";
            return new Target(upstream, "127.0.0.1:" + upstream.getPort(), "")
                    .post("/v1/chat/completions", body, "text/event-stream");
        }

        @Override
        void onHeaders(long now) {
            if (status != 200) {
                ttft.completeExceptionally(new IOException("upstream answered HTTP " + status));
            }
        }

        @Override
        void onBody(byte[] b, int off, int len, long now) {
            sse.feed(b, off, len, now, this);
        }

        @Override
        public void onEvent(String type, byte[] data, int length, long now) {
            int at = indexOf(data, length, CONTENT_KEY, 0);
            if (first < 0 && at >= 0 && at + CONTENT_KEY.length < length && data[at + CONTENT_KEY.length] != '"') {
                first = now;
            }
            if (length == 6 && new String(data, 0, 6, StandardCharsets.US_ASCII).equals("[DONE]")) {
                finish(now);
                closeWithin(now, 2000);
            }
        }

        private void finish(long now) {
            if (first >= 0) {
                ttft.complete(first - sendNanos);
            } else {
                ttft.completeExceptionally(new IOException("no content chunk"));
            }
        }

        @Override
        void onComplete(long now) {
            finish(now);
        }

        @Override
        void onFailure(Failure failure, String detail, long now) {
            ttft.completeExceptionally(new IOException(failure + ": " + detail));
        }
    }

    // ------------------------------------------------------------------ sampling /proc

    /** One second of a scenario: the run's progress and the three processes' resources. */
    record Sample(double t, int started, int open, int done, int failed, long messages, long serverThreads,
                  long serverRssKb, long serverFds, double serverCpu, long benchThreads, double benchCpu,
                  double upstreamCpu) {
    }

    /**
     * Samples the server ({@code /proc/PID}: threads, VmRSS, open fds, CPU), this process and the fake upstream
     * (CPU) every second while a scenario runs, prints a progress line, and sums the CPU each used over the whole
     * scenario. CPU is in percent of one core (200 % = both cores of this machine).
     */
    static final class Sampler {
        private final long serverPid;
        private final long upstreamPid;
        private final boolean quiet;
        private final Run run;
        private final List<Sample> samples = new ArrayList<>();
        private final long selfPid = ProcessHandle.current().pid();
        private final long t0 = System.nanoTime();
        private final long[] startTicks;
        private final long[] lastTicks;
        /** The machine's busy and total jiffies (/proc/stat) at the start: to show what other processes took. */
        private final long[] machineStart = machineTicks();
        private long lastAt = t0;
        private long lastMessages;
        private final Thread thread;
        private volatile boolean running = true;

        Sampler(long serverPid, long upstreamPid, boolean quiet, Run run) {
            this.serverPid = serverPid;
            this.upstreamPid = upstreamPid;
            this.quiet = quiet;
            this.run = run;
            startTicks = new long[]{cpuTicks(serverPid), cpuTicks(selfPid), cpuTicks(upstreamPid)};
            lastTicks = startTicks.clone();
            thread = new Thread(() -> {
                long next = t0;
                while (running) {
                    // one sample a second; after a stall of this process, skip the missed seconds
                    next = Math.max(next + 1_000_000_000L, System.nanoTime() + 500_000_000L);
                    try {
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (running) {
                        sample();
                    }
                }
            }, "bench-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private double cpu(int which, long pid, double seconds) {
            long c = cpuTicks(pid);
            double v = c < 0 || lastTicks[which] < 0 ? -1 : (c - lastTicks[which]) / 100.0 / seconds * 100;
            lastTicks[which] = c;
            return v;
        }

        private void sample() {
            long now = System.nanoTime();
            double seconds = (now - lastAt) / 1e9;
            lastAt = now;
            long threads = -1;
            long rss = -1;
            long fds = -1;
            if (serverPid > 0) {
                Map<String, Long> status = procStatus(serverPid);
                threads = status.getOrDefault("Threads", -1L);
                rss = status.getOrDefault("VmRSS", -1L);
                fds = countFds(serverPid);
            }
            double serverCpu = cpu(0, serverPid, seconds);
            double benchCpu = cpu(1, selfPid, seconds);
            double upstreamCpu = cpu(2, upstreamPid, seconds);
            long benchThreads = procStatus(selfPid).getOrDefault("Threads", -1L);
            int started = run == null ? 0 : run.started.get();
            int open = run == null ? 0 : run.open.get();
            int done = run == null ? 0 : run.done.get();
            int failed = run == null ? 0 : run.failed();
            long messages = run == null ? 0 : run.messages.sum();
            Sample s = new Sample((now - t0) / 1e9, started, open, done, failed, messages, threads, rss, fds, serverCpu,
                    benchThreads, benchCpu, upstreamCpu);
            synchronized (samples) {
                samples.add(s);
            }
            if (!quiet) {
                System.out.printf(Locale.ROOT, "t=%5.1fs started=%-6d open=%-6d done=%-6d failed=%-5d msg/s=%-7d"
                                + " server: threads=%s rss=%s fds=%s cpu=%s | bench cpu=%s upstream cpu=%s%n",
                        s.t(), started, open, done, failed, Math.round((messages - lastMessages) / seconds),
                        num(threads), rss < 0 ? "-" : (rss / 1024) + "MiB", num(fds), pct(serverCpu), pct(benchCpu),
                        pct(upstreamCpu));
            }
            lastMessages = messages;
        }

        /** Stops sampling; returns the resources: min/max/at the peak of open streams, CPU max and average. */
        Map<String, Object> stop() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join(2000);
            double wall = (System.nanoTime() - t0) / 1e9;
            List<Sample> ss;
            synchronized (samples) {
                ss = new ArrayList<>(samples);
            }
            Sample peak = null;
            for (Sample s : ss) {
                if (peak == null || s.open() > peak.open()) {
                    peak = s;
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            if (serverPid > 0) {
                Map<String, Object> server = new LinkedHashMap<>();
                server.put("threads", range(ss, Sample::serverThreads, peak));
                server.put("rssMiB", range(ss, s -> s.serverRssKb() < 0 ? -1 : s.serverRssKb() / 1024, peak));
                server.put("fds", range(ss, Sample::serverFds, peak));
                server.put("cpuPct", cpuFigures(ss, Sample::serverCpu, startTicks[0], cpuTicks(serverPid), wall));
                long hwm = procStatus(serverPid).getOrDefault("VmHWM", -1L);
                server.put("vmHwmMiB", hwm < 0 ? null : hwm / 1024);
                m.put("server", server);
            }
            Map<String, Object> bench = new LinkedHashMap<>();
            bench.put("threads", range(ss, Sample::benchThreads, peak));
            bench.put("cpuPct", cpuFigures(ss, Sample::benchCpu, startTicks[1], cpuTicks(selfPid), wall));
            m.put("bench", bench);
            if (upstreamPid > 0) {
                m.put("upstream", Map.of("cpuPct", cpuFigures(ss, Sample::upstreamCpu, startTicks[2],
                        cpuTicks(upstreamPid), wall)));
            }
            long[] machineEnd = machineTicks();
            if (machineStart != null && machineEnd != null && machineEnd[1] > machineStart[1]) {
                // % of one core, like the processes' figures; "others" is what neither the server, the load client
                // nor the upstream took (other processes of a shared machine)
                double busy = (double) (machineEnd[0] - machineStart[0]) / (machineEnd[1] - machineStart[1])
                        * Runtime.getRuntime().availableProcessors() * 100;
                double ours = 0;
                for (long[] t : new long[][] {{startTicks[0], cpuTicks(serverPid)}, {startTicks[1], cpuTicks(selfPid)},
                        {startTicks[2], cpuTicks(upstreamPid)}}) {
                    if (t[0] >= 0 && t[1] >= 0) {
                        ours += (t[1] - t[0]) / 100.0 / wall * 100;
                    }
                }
                Map<String, Object> machine = new LinkedHashMap<>();
                machine.put("busyPct", round3(busy));
                machine.put("othersPct", round3(Math.max(0, busy - ours)));
                m.put("machine", machine);
            }
            return m;
        }

        private static Map<String, Object> range(List<Sample> ss, java.util.function.ToLongFunction<Sample> f, Sample peak) {
            long min = Long.MAX_VALUE;
            long max = Long.MIN_VALUE;
            for (Sample s : ss) {
                long v = f.applyAsLong(s);
                if (v >= 0) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            if (max != Long.MIN_VALUE) {
                m.put("min", min);
                m.put("max", max);
                m.put("atPeakOpen", peak == null ? null : f.applyAsLong(peak));
            }
            return m;
        }

        private static Map<String, Object> cpuFigures(List<Sample> ss, java.util.function.ToDoubleFunction<Sample> f,
                                                      long startTicks, long endTicks, double wall) {
            double max = -1;
            for (Sample s : ss) {
                max = Math.max(max, f.applyAsDouble(s));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("max", max < 0 ? null : (double) Math.round(max));
            m.put("avg", startTicks < 0 || endTicks < 0 || wall <= 0 ? null
                    : (double) Math.round((endTicks - startTicks) / 100.0 / wall * 100));
            return m;
        }

        private static String pct(double v) {
            return v < 0 ? "-" : Math.round(v) + "%";
        }
    }

    private static String num(long v) {
        return v < 0 ? "-" : Long.toString(v);
    }

    static Map<String, Long> procStatus(long pid) {
        Map<String, Long> values = new TreeMap<>();
        if (pid <= 0) {
            return values;
        }
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
        } catch (IOException | RuntimeException e) {
            // the process is gone or unreadable
        }
        return values;
    }

    /** The machine's {@code [busy, total]} jiffies over every CPU ({@code /proc/stat}), or null. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static long countFds(long pid) {
        try (var list = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return list.count();
        } catch (IOException | UncheckedIOException e) {
            return -1;
        }
    }

    /** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux); -1 when unknown. */
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

    // ------------------------------------------------------------------ plain HTTP and jcmd

    /** A status and body of a plain request. */
    record Reply(int status, String body) {
    }

    /**
     * One plain HTTP/1.1 request on a blocking socket ({@code Connection: close}); the body is de-chunked. For the
     * control requests only ({@code /api/info}, {@code /api/metrics}, the upstream's {@code /bench/...}).
     */
    static Reply plain(InetSocketAddress address, String host, String method, String path, String json, int timeoutMs)
            throws IOException {
        try (Socket s = new Socket()) {
            s.connect(address, timeoutMs);
            s.setSoTimeout(timeoutMs);
            byte[] body = json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: application/json\r\n"
                    + "Connection: close\r\n" + (json == null ? "" : "Content-Type: application/json\r\n")
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.") || end < 0) {
                throw new IOException("not an HTTP response: " + shorten(text));
            }
            int status = Integer.parseInt(text.substring(9, 12));
            String head = text.substring(0, end).toLowerCase(Locale.ROOT);
            byte[] raw = Arrays.copyOfRange(all, end + 4, all.length);
            if (head.contains("transfer-encoding: chunked")) {
                ByteArrayOutputStream dechunked = new ByteArrayOutputStream();
                int i = 0;
                while (i < raw.length) {
                    int eol = indexOf(raw, raw.length, "\r\n".getBytes(StandardCharsets.US_ASCII), i);
                    if (eol < 0) {
                        break;
                    }
                    String sizeLine = new String(raw, i, eol - i, StandardCharsets.US_ASCII).split(";")[0].trim();
                    int size = Integer.parseInt(sizeLine, 16);
                    if (size == 0) {
                        break;
                    }
                    dechunked.write(raw, eol + 2, Math.min(size, raw.length - eol - 2));
                    i = eol + 2 + size + 2;
                }
                raw = dechunked.toByteArray();
            }
            return new Reply(status, new String(raw, StandardCharsets.UTF_8));
        }
    }

    /** Runs {@code jcmd PID command...} and returns its output; IOException when it fails or takes over 3 min. */
    static String jcmd(long pid, String... command) throws IOException, InterruptedException {
        Path own = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        List<String> cmd = new ArrayList<>();
        cmd.add(Files.isExecutable(own) ? own.toString() : "jcmd");
        cmd.add(Long.toString(pid));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("jcmd " + String.join(" ", command) + " took over 3 minutes");
        }
        String text = out.join();
        if (p.exitValue() != 0) {
            throw new IOException("jcmd " + String.join(" ", command) + " failed: " + shorten(text));
        }
        return text;
    }

    private static final Pattern TOTAL_USED = Pattern.compile("total (\\d+)([KMG]), used (\\d+)([KMG])");
    private static final Pattern USED = Pattern.compile("used (\\d+)([KMG])");

    /**
     * The used Java heap, bytes, from {@code jcmd PID GC.heap_info}: the sum of its {@code total ..., used N}
     * lines (G1 has one, the generational collectors one per generation; Metaspace lines have no {@code total}),
     * else the first {@code used N} (ZGC).
     */
    static long heapUsed(String heapInfo) {
        long sum = 0;
        boolean any = false;
        for (String line : heapInfo.split("\n")) {
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = TOTAL_USED.matcher(line);
            if (m.find()) {
                sum += bytes(m.group(3), m.group(4));
                any = true;
            }
        }
        if (any) {
            return sum;
        }
        Matcher m = USED.matcher(heapInfo);
        if (m.find()) {
            return bytes(m.group(1), m.group(2));
        }
        throw new IllegalArgumentException("no used heap in: " + shorten(heapInfo));
    }

    private static long bytes(String n, String unit) {
        long v = Long.parseLong(n);
        return switch (unit) {
            case "K" -> v << 10;
            case "M" -> v << 20;
            default -> v << 30;
        };
    }

    private static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    /** The bytes of every class in a histogram: the live heap. */
    static long histogramTotal(Map<String, long[]> histogram) {
        long total = 0;
        for (long[] row : histogram.values()) {
            total += row[1];
        }
        return total;
    }

    /** {@code jcmd PID GC.class_histogram} (a full GC, live objects only): class name to {instances, bytes}. */
    static Map<String, long[]> histogram(String text) {
        Map<String, long[]> m = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher x = HISTO_LINE.matcher(line);
            if (x.find()) {
                m.merge(x.group(3), new long[]{Long.parseLong(x.group(1)), Long.parseLong(x.group(2))},
                        (a, b) -> new long[]{a[0] + b[0], a[1] + b[1]});
            }
        }
        return m;
    }

    // ------------------------------------------------------------------ the scenarios

    private final Options o;
    private Target target;
    private InetSocketAddress upstreamAddress;
    private NioClient client;
    private long upstreamPid = -1;
    private String upstreamLabel;

    private LoadBench(Options o) {
        this.o = o;
    }

    /** What a scenario measured, and its exit status. */
    record Outcomes(Map<String, Object> figures, int exitCode) {
    }

    private int run() throws Exception {
        try {
            target = Target.of(o.base);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        upstreamAddress = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), o.upstreamPort);
        FakeUpstream inline = null;
        ForkedUpstream forked = null;
        if (o.simulated) {
            upstreamLabel = "none (simulated model)";
        } else if (o.upstream.equals("inline")) {
            inline = new FakeUpstream(o.upstreamPort, new Shape(o.chunks, o.intervalMs));
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
            upstreamPid = o.upstreamPid;
            upstreamLabel = "fake, already running on 127.0.0.1:" + o.upstreamPort
                    + (upstreamPid > 0 ? " (pid " + upstreamPid + ")" : "");
        }
        client = new NioClient(o.loops, o.headerTimeoutSeconds);
        try {
            if (!preflight()) {
                return 2;
            }
            Results results = o.writeResults ? new Results(Path.of(o.results), o) : null;
            int code = 0;
            if (o.warmup || o.scenario.equals("warmup")) {
                Outcomes w = warmup();
                save(results, w);
            }
            Outcomes main = switch (o.scenario) {
                case "load" -> load();
                case "sequential" -> sequential();
                case "heap" -> heap();
                case "relay" -> relay();
                case "cold" -> cold();
                default -> null;
            };
            if (main != null) {
                save(results, main);
                code = main.exitCode();
            }
            if (results != null) {
                System.out.println("results: " + results.path().toAbsolutePath() + " (run " + results.runId() + ")");
            }
            return code;
        } finally {
            client.close();
            if (inline != null) {
                inline.stop();
            }
            if (forked != null) {
                String summary = forked.stop();
                if (summary != null) {
                    System.out.println("fake upstream: " + summary);
                }
            }
        }
    }

    private static void save(Results results, Outcomes outcome) throws IOException {
        if (results != null && outcome != null) {
            results.append(outcome.figures());
        }
    }

    /** Checks that Sluice answers and streams this bench's upstream's text; prints how to start it if not. */
    private boolean preflight() throws Exception {
        String startCommand = "  SLUICE_UPSTREAM_URL=http://127.0.0.1:" + o.upstreamPort + "/v1 java -jar payara-micro.jar"
                + " --deploy target/sluice.war --contextroot / --nohazelcast --port " + target.address().getPort()
                + "\n  (or let src/test/java/io/sluice/bench/bench.sh start it)";
        Reply info;
        try {
            info = plain(target.address(), target.host(), "GET", target.prefix() + "/api/info", null, 10_000);
        } catch (IOException e) {
            System.err.println("Sluice is not reachable at " + o.base + " (" + describe(e) + ").");
            System.err.println("Start it first, with its upstream pointing at this bench's fake upstream:");
            System.err.println(startCommand);
            return false;
        }
        if (info.status() != 200) {
            System.err.println("GET " + o.base + "/api/info answered " + info.status() + " " + shorten(info.body())
                    + "; is this Sluice?");
            return false;
        }
        System.out.println("server: GET /api/info -> " + info.body().strip());
        if (!o.simulated && info.body().contains("\"simulated\":true")) {
            System.err.println("Sluice runs without an upstream (it would answer with the simulated model)."
                    + " Restart it with:\n" + startCommand + "\nor run the bench with --simulated.");
            return false;
        }
        if (!o.probe) {
            return true;
        }
        Run probe = new Run("probe", target, client, o.model, true);
        Shape shape = o.simulated ? null : new Shape(3, 0);
        ChatStream s = probe.launch(0, shape);
        probe.stopLaunching();
        if (!probe.awaitAll(System.nanoTime() + TimeUnit.SECONDS.toNanos(60))) {
            probe.abandonAll();
        }
        if (probe.done.get() != 1) {
            System.err.println("the probe stream failed: " + probe.reasons.keySet() + " " + probe.reasonSamples.values());
            if (!o.simulated) {
                System.err.println("Is Sluice's SLUICE_UPSTREAM_URL http://127.0.0.1:" + o.upstreamPort + "/v1 ? Start it with:\n"
                        + startCommand);
            }
            return false;
        }
        String text;
        synchronized (probe) {
            text = s.probeText.toString();
        }
        System.out.println("probe: ok (" + (o.simulated ? text.length() + " characters" : "\"" + text.strip() + "\"") + ")");
        return true;
    }

    /**
     * Waits until the server is idle: no running stream ({@code GET /api/metrics}, when it answers) and, with
     * {@code --pid}, under 30 % of a core for a second. At most {@code --settle-seconds}.
     */
    private void settle() throws InterruptedException {
        if (!o.settle) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(o.settleSeconds);
        long running = -1;
        double cpu = -1;
        while (System.nanoTime() < deadline) {
            long before = cpuTicks(o.pid);
            long at = System.nanoTime();
            Thread.sleep(1000);
            cpu = before < 0 ? -1 : (cpuTicks(o.pid) - before) / 100.0 / ((System.nanoTime() - at) / 1e9) * 100;
            running = runningStreams();
            if (running <= 0 && cpu < 30) {
                break;
            }
        }
        double waited = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "settle: %.0f s (running streams %s, server CPU %s)%s%n", waited,
                running < 0 ? "unknown" : Long.toString(running), cpu < 0 ? "unknown" : Math.round(cpu) + "%",
                System.nanoTime() >= deadline ? " - not idle yet, going on" : "");
    }

    /** Running streams from {@code GET /api/metrics}, or -1 when the server does not say. */
    private long runningStreams() {
        Map<String, Object> m = metrics();
        Object streams = m == null ? null : m.get("streams");
        if (streams instanceof Map<?, ?> s && s.get("running") instanceof Number n) {
            return n.longValue();
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> metrics() {
        try {
            Reply r = plain(target.address(), target.host(), "GET", target.prefix() + "/api/metrics", null, 10_000);
            if (r.status() == 200 && Json.parse(r.body()) instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
        } catch (IOException | RuntimeException e) {
            // no metrics
        }
        return null;
    }

    /** The fake upstream's counters ({@code GET /bench/stats}), or null. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> upstreamStats() {
        if (o.simulated) {
            return null;
        }
        try {
            Reply r = plain(upstreamAddress, "127.0.0.1:" + o.upstreamPort, "GET", "/bench/stats", null, 10_000);
            if (r.status() == 200 && Json.parse(r.body()) instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
        } catch (IOException | RuntimeException e) {
            // an upstream of another kind
        }
        return null;
    }

    private static Map<String, Object> delta(Map<String, Object> before, Map<String, Object> after) {
        if (before == null || after == null) {
            return null;
        }
        Map<String, Object> d = new LinkedHashMap<>();
        for (String k : List.of("requests", "titles", "completed", "cut", "finishedEarly", "chunks")) {
            if (before.get(k) instanceof Number a && after.get(k) instanceof Number b) {
                d.put(k, b.longValue() - a.longValue());
            }
        }
        return d;
    }

    private Map<String, Object> header(String scenario, String label) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", scenario);
        m.put("label", label);
        m.put("at", Instant.now().toString());
        return m;
    }

    /** Shape of the chat streams; null with the simulated model (no text to check). */
    private Shape shape(int chunks, int intervalMs) {
        return o.simulated ? null : new Shape(chunks, intervalMs);
    }

    /**
     * Opens {@code n} chat streams, started evenly over {@code rampSeconds}, and waits for all of them, or until
     * {@code timeoutSeconds} after the last should have ended; the rest are abandoned and counted.
     */
    private Map<String, Object> streams(String scenario, String label, int n, double rampSeconds, Shape shape,
                                        int timeoutSeconds, boolean quiet) throws Exception {
        Map<String, Object> upBefore = upstreamStats();
        Run run = new Run(label, target, client, o.model, false);
        Sampler sampler = new Sampler(o.pid, upstreamPid, quiet, run);
        long t0 = System.nanoTime();
        long rampNanos = (long) (rampSeconds * 1e9);
        for (int i = 0; i < n; i++) {
            long at = t0 + (n == 1 ? 0 : rampNanos * i / (n - 1));
            long wait = at - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            run.launch(i, shape);
        }
        run.stopLaunching();
        long ideal = shape == null ? 30_000 : shape.idealMillis();
        long deadline = t0 + rampNanos + TimeUnit.MILLISECONDS.toNanos(ideal) + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        boolean all = run.awaitAll(deadline);
        long wall = System.nanoTime() - t0;
        int abandoned = 0;
        if (!all) {
            abandoned = run.live.size();
            run.abandonAll();
        }
        Map<String, Object> resources = sampler.stop();
        Map<String, Object> m = header(scenario, label);
        m.put("streams", n);
        m.put("rampSeconds", rampSeconds);
        m.put("shape", shapeMap(shape));
        m.put("wallSeconds", round3(wall / 1e9));
        m.put("abandoned", abandoned);
        m.putAll(run.figures());
        m.put("resources", resources);
        m.put("upstream", delta(upBefore, upstreamStats()));
        return m;
    }

    private static Map<String, Object> shapeMap(Shape shape) {
        if (shape == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chunks", shape.chunks());
        m.put("intervalMs", shape.intervalMs());
        m.put("chars", shape.expectedChars());
        return m;
    }

    /** {@code load}: the issue's rows (1,000, 5,000 and 10,000 streams, ramp 10 s, 100 x 100 ms). */
    private Outcomes load() throws Exception {
        settle();
        Shape shape = shape(o.chunks, o.intervalMs);
        System.out.printf(Locale.ROOT, "%nload: %d streams over %.1f s against %s (model %s), upstream %s%s%n", o.streams,
                o.rampSeconds, o.base, o.model, upstreamLabel, shape == null ? "" : ", " + shape);
        Map<String, Object> m = streams("load", o.streams + " streams", o.streams, o.rampSeconds, shape,
                o.timeoutSeconds, o.quiet);
        printStreams(m);
        return new Outcomes(m, ((Number) m.get("failed")).intValue() == 0 ? 0 : 1);
    }

    /**
     * {@code cold} (issue 22): the load row ({@code --streams}, ramp, shape) sent to a node that has just become ready,
     * with no probe and no settling before it, then the same row again once no stream runs. Reports both rounds, and
     * the driver's {@code --ready-ms} and {@code --deployed-ms} (process start to {@code /health/ready} UP, and to the
     * first answer of {@code GET /api/info}).
     */
    private Outcomes cold() throws Exception {
        Shape shape = shape(o.chunks, o.intervalMs);
        System.out.printf(Locale.ROOT, "%ncold: %d streams over %.1f s on a node that has just become ready (process"
                        + " start to ready %s ms), then again; against %s (model %s), upstream %s%s%n", o.streams,
                o.rampSeconds, o.readyMs < 0 ? "unknown" : Long.toString(o.readyMs), o.base, o.model, upstreamLabel,
                shape == null ? "" : ", " + shape);
        Map<String, Object> first = streams("cold", "first round", o.streams, o.rampSeconds, shape, o.timeoutSeconds,
                o.quiet);
        printStreams(first);
        awaitNoRunningStream();
        Map<String, Object> second = streams("cold", "second round", o.streams, o.rampSeconds, shape,
                o.timeoutSeconds, o.quiet);
        printStreams(second);
        Map<String, Object> m = header("cold", o.streams + " streams on a fresh node");
        m.put("streams", o.streams);
        m.put("readyMs", o.readyMs < 0 ? null : o.readyMs);
        m.put("deployedMs", o.deployedMs < 0 ? null : o.deployedMs);
        m.put("first", first);
        m.put("second", second);
        System.out.printf(Locale.ROOT, "%ncold: process start to ready %s; first round: first token p50 %s / p99 %s ms,"
                        + " longest gap p99 %s ms, duration p95 %s ms, %s failed; second round: first token p50 %s /"
                        + " p99 %s ms, longest gap p99 %s ms, duration p95 %s ms, %s failed; other processes' CPU %s %% / %s %%"
                        + " of one core%n",
                o.readyMs < 0 ? "unknown" : o.readyMs + " ms", f(p(first, "ttftMs", "p50")), f(p(first, "ttftMs", "p99")),
                f(p(first, "gapMs", "p99")), f(p(first, "durationMs", "p95")), first.get("failed"),
                f(p(second, "ttftMs", "p50")), f(p(second, "ttftMs", "p99")), f(p(second, "gapMs", "p99")),
                f(p(second, "durationMs", "p95")), second.get("failed"), others(first), others(second));
        int failed = ((Number) first.get("failed")).intValue() + ((Number) second.get("failed")).intValue();
        return new Outcomes(m, failed == 0 ? 0 : 1);
    }

    /** The CPU other processes of the machine took during a round, % of one core, or "?". */
    private static Object others(Map<String, Object> round) {
        if (round.get("resources") instanceof Map<?, ?> r && r.get("machine") instanceof Map<?, ?> m) {
            return m.get("othersPct") instanceof Number n ? Math.round(n.doubleValue()) : "?";
        }
        return "?";
    }

    /** Waits, at most {@code --settle-seconds}, until {@code GET /api/metrics} says no stream runs (CPU is not waited for). */
    private void awaitNoRunningStream() throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(o.settleSeconds);
        long running;
        do {
            Thread.sleep(500);
            running = runningStreams();
        } while (running > 0 && System.nanoTime() < deadline);
        System.out.printf(Locale.ROOT, "between the rounds: %.1f s until no stream ran (running now %s)%n",
                (System.nanoTime() - start) / 1e9, running < 0 ? "unknown" : Long.toString(running));
    }

    /**
     * {@code warmup}: rounds of {@code --warmup-streams} short streams (30 chunks x 100 ms, ramp 10 s), then
     * {@code --warmup-sequential} sequential requests, so that the server's hot path is compiled (C2) and its
     * pools, caches and database connections are filled before anything is measured.
     */
    private Outcomes warmup() throws Exception {
        System.out.printf(Locale.ROOT, "%nwarm-up: %d rounds of %d streams (30 chunks x 100 ms, ramp 10 s), then %d"
                + " sequential requests%n", o.warmupRounds, o.warmupStreams, o.warmupSequential);
        List<Object> rounds = new ArrayList<>();
        for (int r = 1; r <= o.warmupRounds && o.warmupStreams > 0; r++) {
            Map<String, Object> m = streams("warmup", "warm-up " + r, o.warmupStreams, 10, shape(30, 100), 60, true);
            System.out.printf(Locale.ROOT, "  round %d: %s completed of %d, first token p50 %s / p99 %s ms, longest gap"
                            + " p99 %s ms%n", r, m.get("completed"), o.warmupStreams, f(p(m, "ttftMs", "p50")),
                    f(p(m, "ttftMs", "p99")), f(p(m, "gapMs", "p99")));
            rounds.add(Map.of("completed", m.get("completed"), "ttftMs", m.get("ttftMs"), "gapMs", m.get("gapMs")));
        }
        Map<String, Object> seq = null;
        if (o.warmupSequential > 0) {
            seq = sequentialPairs(o.warmupSequential, true);
            System.out.printf(Locale.ROOT, "  sequential: added first-token time p50 %s / p99 %s ms%n",
                    f(p(seq, "addedMs", "p50")), f(p(seq, "addedMs", "p99")));
        }
        Map<String, Object> m = header("warmup", "warm-up");
        m.put("rounds", rounds);
        m.put("sequential", seq == null ? null : Map.of("addedMs", seq.get("addedMs")));
        return new Outcomes(m, 0);
    }

    /** {@code sequential}: first turns one at a time, each directly against the upstream and through Sluice. */
    private Outcomes sequential() throws Exception {
        if (o.simulated) {
            System.err.println("sequential needs the fake upstream (not --simulated)");
            return new Outcomes(null, 2);
        }
        settle();
        System.out.printf(Locale.ROOT, "%nsequential: %d requests to the upstream directly and %d through Sluice,"
                        + " one at a time, alternating which goes first; answer %s%n", o.seqRequests, o.seqRequests,
                new Shape(o.seqChunks, o.seqIntervalMs));
        Map<String, Object> m = sequentialPairs(o.seqRequests, o.quiet);
        System.out.println();
        System.out.println("direct        " + line(m, "directMs") + "  (upstream's first content chunk)");
        System.out.println("through Sluice " + line(m, "sluiceMs").substring(1) + "  (first message event)");
        System.out.println("added         " + line(m, "addedMs") + "  (per pair: Sluice minus direct)");
        System.out.printf(Locale.ROOT, "              p50(Sluice) - p50(direct) = %s ms, p99(Sluice) - p99(direct) = %s ms;"
                + " failed: %s direct, %s through Sluice %s%n", m.get("p50DifferenceMs"), m.get("p99DifferenceMs"),
                m.get("directFailed"), m.get("sluiceFailed"), m.get("reasons"));
        int failed = ((Number) m.get("directFailed")).intValue() + ((Number) m.get("sluiceFailed")).intValue();
        return new Outcomes(m, failed == 0 ? 0 : 1);
    }

    private Map<String, Object> sequentialPairs(int pairs, boolean quiet) throws Exception {
        Shape shape = new Shape(o.seqChunks, o.seqIntervalMs);
        Run run = new Run("seq", target, client, o.model, false);
        LongList direct = new LongList();
        LongList sluice = new LongList();
        LongList added = new LongList();
        int directFailed = 0;
        Map<String, Integer> directReasons = new TreeMap<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < pairs; i++) {
            long d = -1;
            long s = -1;
            for (int leg = 0; leg < 2; leg++) {
                boolean directLeg = (leg == 0) == (i % 2 == 0);
                if (directLeg) {
                    DirectStream x = new DirectStream(upstreamAddress, "bench seq " + i + " " + shape.marker());
                    client.start(x);
                    try {
                        d = x.ttft.get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        directFailed++;
                        directReasons.merge(shorten(describe(e)), 1, Integer::sum);
                        client.abandon(x, "sequential timeout");
                    }
                } else {
                    ChatStream c = run.launch(i, shape);
                    if (!run.awaitRecorded(i + 1, System.nanoTime() + TimeUnit.SECONDS.toNanos(30))) {
                        client.abandon(c, "sequential timeout");
                        run.awaitRecorded(i + 1, System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
                    }
                    synchronized (run) {
                        if (c.outcome == Outcome.COMPLETED && c.firstMessage >= 0) {
                            s = c.firstMessage - c.sendNanos;
                        }
                    }
                }
                Thread.sleep(o.seqPauseMs);
            }
            if (d >= 0) {
                direct.add(d);
            }
            if (s >= 0) {
                sluice.add(s);
            }
            if (d >= 0 && s >= 0) {
                added.add(s - d);
            }
            if (!quiet && (i + 1) % 50 == 0) {
                System.out.printf(Locale.ROOT, "  %d/%d pairs, %.0f s%n", i + 1, pairs, (System.nanoTime() - t0) / 1e9);
            }
        }
        run.stopLaunching();
        Map<String, Object> m = header("sequential", pairs + " pairs");
        m.put("requests", pairs);
        m.put("shape", shapeMap(shape));
        m.put("pauseMs", o.seqPauseMs);
        m.put("directMs", dist(direct));
        m.put("sluiceMs", dist(sluice));
        m.put("addedMs", signedDist(added));
        long[] ds = direct.sorted();
        long[] ss = sluice.sorted();
        if (ds.length > 0 && ss.length > 0) {
            m.put("p50DifferenceMs", round3((pick(ss, 0.5) - pick(ds, 0.5)) / 1e6));
            m.put("p99DifferenceMs", round3((pick(ss, 0.99) - pick(ds, 0.99)) / 1e6));
        }
        m.put("directFailed", directFailed);
        m.put("sluiceFailed", run.failed());
        Map<String, Object> reasons = new TreeMap<>();
        directReasons.forEach((k, v) -> reasons.put("direct " + k, v));
        run.reasons.forEach((k, v) -> reasons.put("sluice " + k, v.sum()));
        m.put("reasons", reasons);
        return m;
    }

    /** Like {@link #dist} for values that may be negative (differences). */
    private static Map<String, Object> signedDist(LongList values) {
        long[] s = values.sorted();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.length);
        if (s.length > 0) {
            m.put("min", round3(s[0] / 1e6));
            m.put("p50", round3(pick(s, 0.50) / 1e6));
            m.put("p95", round3(pick(s, 0.95) / 1e6));
            m.put("p99", round3(pick(s, 0.99) / 1e6));
            m.put("max", round3(s[s.length - 1] / 1e6));
        }
        return m;
    }

    /**
     * {@code heap}: the live heap per open stream. A full GC before the streams, {@code --heap-streams} slow
     * streams held open, a full GC at the plateau; the difference per open stream, minus the text each holds.
     */
    private Outcomes heap() throws Exception {
        if (o.pid <= 0) {
            System.err.println("heap needs --pid (the server JVM, for jcmd)");
            return new Outcomes(null, 2);
        }
        if (o.simulated) {
            System.err.println("heap needs the fake upstream (not --simulated): its streams must stay open");
            return new Outcomes(null, 2);
        }
        try {
            jcmd(o.pid, "VM.version");
        } catch (IOException e) {
            System.err.println("heap needs jcmd on the server JVM " + o.pid + " (same user, a JDK): " + e.getMessage());
            return new Outcomes(null, 2);
        }
        settle();
        int n = o.heapStreams;
        Shape shape = new Shape(1_000_000, o.heapIntervalMs);
        System.out.printf(Locale.ROOT, "%nheap: %d slow streams (one chunk every %d ms) over %.1f s, held %d s;"
                + " full GCs in pid %d before and at the plateau%n", n, o.heapIntervalMs, o.heapRampSeconds,
                o.heapHoldSeconds, o.pid);
        Map<String, Object> metricsBefore = metrics();
        jcmd(o.pid, "GC.run");
        long usedBefore = heapUsed(jcmd(o.pid, "GC.heap_info"));
        Map<String, long[]> histBefore = histogram(jcmd(o.pid, "GC.class_histogram"));
        System.out.printf(Locale.ROOT, "  before: used heap after a full GC %.1f MiB%n", usedBefore / 1048576.0);

        Map<String, Object> upBefore = upstreamStats();
        Run run = new Run("heap", target, client, o.model, false);
        run.checkText = false; // the upstream ends these answers early, on /bench/finish
        Sampler sampler = new Sampler(o.pid, upstreamPid, o.quiet, run);
        long t0 = System.nanoTime();
        long rampNanos = (long) (o.heapRampSeconds * 1e9);
        for (int i = 0; i < n; i++) {
            long wait = t0 + (n == 1 ? 0 : rampNanos * i / (n - 1)) - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            run.launch(i, shape);
        }
        run.stopLaunching();
        long plateauDeadline = t0 + rampNanos + TimeUnit.SECONDS.toNanos(o.timeoutSeconds);
        while (run.streaming.get() + run.ended.get() < n && System.nanoTime() < plateauDeadline) {
            Thread.sleep(200);
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(o.heapHoldSeconds));
        int openAtGc = run.streaming.get();
        long textBefore = textBytes(run);
        long charsBefore = textChars(run);
        Map<String, Object> metricsAt = metrics();
        jcmd(o.pid, "GC.run");
        long usedAfter = heapUsed(jcmd(o.pid, "GC.heap_info"));
        long textAfter = textBytes(run);
        int openAfterGc = run.streaming.get();
        Map<String, long[]> histAfter = histogram(jcmd(o.pid, "GC.class_histogram"));
        System.out.printf(Locale.ROOT, "  plateau: %d streams open, used heap after a full GC %.1f MiB%n", openAtGc,
                usedAfter / 1048576.0);

        // end the streams: the upstream finishes every answer now
        try {
            Reply r = plain(upstreamAddress, "127.0.0.1:" + o.upstreamPort, "POST", "/bench/finish", "{}", 10_000);
            System.out.println("  upstream /bench/finish -> " + r.body().strip());
        } catch (IOException e) {
            System.err.println("  could not end the streams through the upstream: " + describe(e));
        }
        if (!run.awaitAll(System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(60, o.timeoutSeconds)))) {
            run.abandonAll();
        }
        Map<String, Object> resources = sampler.stop();

        Map<String, Object> m = header("heap", n + " slow streams");
        m.put("streams", n);
        m.put("shape", Map.of("intervalMs", o.heapIntervalMs));
        m.put("openAtGc", openAtGc);
        m.put("usedBeforeMiB", round3(usedBefore / 1048576.0));
        m.put("usedAtPlateauMiB", round3(usedAfter / 1048576.0));
        long text = (textBefore + textAfter) / 2;
        m.put("textBytes", text);
        m.put("textChars", charsBefore);
        long liveBefore = histogramTotal(histBefore);
        long liveAfter = histogramTotal(histAfter);
        m.put("liveBeforeMiB", round3(liveBefore / 1048576.0));
        m.put("liveAtPlateauMiB", round3(liveAfter / 1048576.0));
        if (openAtGc > 0) {
            // the live objects the class histogram counts (it runs a full GC first); G1's "used" after a full GC also
            // counts what its regions hold beyond live objects, and came out 30 to 50 % higher here
            double perStream = (liveAfter - liveBefore) / (double) openAtGc;
            m.put("usedHeapPerStreamKiB", round3((usedAfter - usedBefore) / (double) openAtGc / 1024));
            double textPerStream = text / (double) openAtGc;
            m.put("heapPerStreamKiB", round3(perStream / 1024));
            m.put("textPerStreamBytes", round3(textPerStream));
            m.put("heapPerStreamBeyondTextKiB", round3((perStream - textPerStream) / 1024));
        }
        List<String> warnings = new ArrayList<>();
        if (openAfterGc != openAtGc) {
            warnings.add((openAtGc - openAfterGc) + " streams ended during the measure");
        }
        long retainedBefore = retained(metricsBefore);
        long retainedAt = retained(metricsAt);
        if (retainedBefore >= 0 && retainedAt >= 0 && retainedAt < retainedBefore) {
            warnings.add((retainedBefore - retainedAt) + " ended streams were evicted from the node meanwhile"
                    + " (SLUICE_MAX_STREAMS): the figure is too low");
        }
        if (!warnings.isEmpty()) {
            m.put("warning", String.join("; ", warnings));
        }
        m.put("metricsBefore", metricsBefore);
        m.put("metricsAtPlateau", metricsAt);
        m.put("histogramGrowth", histogramGrowth(histBefore, histAfter, Math.max(1, openAtGc)));
        m.putAll(run.figures());
        m.put("resources", resources);
        m.put("upstream", delta(upBefore, upstreamStats()));
        printHeap(m);
        boolean ok = openAtGc == n && run.failed() == 0;
        return new Outcomes(m, ok ? 0 : 1);
    }

    /** {@code streams.retained} of a {@code /api/metrics} answer, or -1. */
    private static long retained(Map<String, Object> metrics) {
        if (metrics != null && metrics.get("streams") instanceof Map<?, ?> s && s.get("retained") instanceof Number n) {
            return n.longValue();
        }
        return -1;
    }

    private static long textBytes(Run run) {
        long sum = 0;
        for (ChatStream s : run.live) {
            sum += s.textBytes();
        }
        return sum;
    }

    private static long textChars(Run run) {
        long sum = 0;
        for (ChatStream s : run.live) {
            sum += s.textChars;
        }
        return sum;
    }

    /** The 15 classes whose live bytes grew most, per open stream. */
    private static List<Object> histogramGrowth(Map<String, long[]> before, Map<String, long[]> after, int streams) {
        List<Map.Entry<String, long[]>> grown = new ArrayList<>();
        for (var e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            grown.add(Map.entry(e.getKey(), new long[]{e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
        }
        grown.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        List<Object> top = new ArrayList<>();
        for (var e : grown.subList(0, Math.min(15, grown.size()))) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("class", e.getKey());
            row.put("bytesPerStream", round3(e.getValue()[1] / (double) streams));
            row.put("instancesPerStream", round3(e.getValue()[0] / (double) streams));
            top.add(row);
        }
        return top;
    }

    /**
     * {@code relay}: {@code --relay-clients} clients, each with one stream at a time, start streams of
     * {@code --relay-chunks} chunks with no pause for {@code --relay-seconds}; upstream chunk events relayed per
     * second, SSE events and characters per second.
     */
    private Outcomes relay() throws Exception {
        settle();
        Shape shape = shape(o.relayChunks, 0);
        int k = o.relayClients;
        System.out.printf(Locale.ROOT, "%nrelay: %d clients, one stream each at a time, for %d s; answer %s%n", k,
                o.relaySeconds, shape == null ? "simulated" : shape);
        Map<String, Object> upBefore = upstreamStats();
        Run run = new Run("relay", target, client, o.model, false);
        AtomicInteger index = new AtomicInteger();
        run.afterRecord = s -> run.launch(index.getAndIncrement(), shape);
        Sampler sampler = new Sampler(o.pid, upstreamPid, o.quiet, run);
        long t0 = System.nanoTime();
        for (int i = 0; i < k; i++) {
            run.launch(index.getAndIncrement(), shape);
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(o.relaySeconds));
        run.stopLaunching();
        if (!run.awaitAll(System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(60, o.timeoutSeconds)))) {
            run.abandonAll();
        }
        long wall = System.nanoTime() - t0;
        Map<String, Object> resources = sampler.stop();
        Map<String, Object> m = header("relay", k + " clients");
        m.put("clients", k);
        m.put("seconds", o.relaySeconds);
        m.put("shape", shapeMap(shape));
        m.put("wallSeconds", round3(wall / 1e9));
        m.putAll(run.figures());
        double span = ((Number) m.get("spanSeconds")).doubleValue();
        int completed = run.done.get();
        if (span > 0) {
            m.put("upstreamEventsPerSecond", shape == null ? null : Math.round(completed * (double) shape.chunks() / span));
            m.put("sseEventsPerSecond", Math.round(((Number) m.get("completedMessages")).longValue() / span));
            m.put("charsPerSecond", Math.round(((Number) m.get("completedChars")).longValue() / span));
        }
        m.put("resources", resources);
        m.put("upstream", delta(upBefore, upstreamStats()));
        printRelay(m);
        return new Outcomes(m, run.failed() == 0 ? 0 : 1);
    }

    // ------------------------------------------------------------------ console reports

    @SuppressWarnings("unchecked")
    static Object p(Map<String, Object> m, String dist, String key) {
        Object d = m.get(dist);
        return d instanceof Map<?, ?> x && x.get(key) != null ? x.get(key) : "-";
    }

    static String line(Map<String, Object> m, String dist) {
        return String.format(Locale.ROOT, " n=%s  p50 %s  p95 %s  p99 %s  max %s ms", p(m, dist, "n"), f(p(m, dist, "p50")),
                f(p(m, dist, "p95")), f(p(m, dist, "p99")), f(p(m, dist, "max")));
    }

    /** A millisecond figure for the console: one decimal under 10 ms, whole ms above. */
    static String f(Object v) {
        if (!(v instanceof Number n)) {
            return String.valueOf(v);
        }
        double ms = n.doubleValue();
        return Math.abs(ms) < 10 ? String.format(Locale.ROOT, "%.1f", ms) : Long.toString(Math.round(ms));
    }

    private static final String RULE = "=".repeat(78) + "\n";

    private void printStreams(Map<String, Object> m) {
        StringBuilder r = new StringBuilder("\n").append(RULE);
        r.append("SLUICE LOAD BENCH  ").append(m.get("label")).append("  ").append(m.get("at")).append('\n').append(RULE);
        r.append(String.format(Locale.ROOT, "load          %s streams, ramp %s s, answer %s, wall %s s%n", m.get("streams"),
                m.get("rampSeconds"), m.get("shape") == null ? "simulated" : new Shape(o.chunks, o.intervalMs),
                m.get("wallSeconds")));
        r.append(outcomeLines(m));
        r.append(String.format(Locale.ROOT, "concurrency   peak open streams %s%n", m.get("peakOpen")));
        r.append("first token  ").append(line(m, "ttftMs")).append("  (request send to first message event)\n");
        r.append("longest gap  ").append(line(m, "gapMs")).append("  (between two message events, per stream)\n");
        r.append("duration     ").append(line(m, "durationMs")).append("  (request send to done)\n");
        if (((Number) ((Map<?, ?>) m.get("refusalMs")).get("n")).intValue() > 0) {
            r.append("503 after    ").append(line(m, "refusalMs")).append("  (request send to the 503's headers)\n");
        }
        r.append(String.format(Locale.ROOT, "events        %s message events, %s pings, %.2f MiB of SSE%n",
                m.get("messages"), m.get("pings"), ((Number) m.get("sseBytes")).longValue() / 1048576.0));
        r.append(resourceLines(m));
        r.append(RULE);
        System.out.print(r);
    }

    @SuppressWarnings("unchecked")
    static String outcomeLines(Map<String, Object> m) {
        StringBuilder r = new StringBuilder();
        Map<String, Object> out = (Map<String, Object>) m.get("outcomes");
        r.append(String.format(Locale.ROOT, "streams       started %s, got headers %s, completed %s, failed %s%n",
                m.get("started"), m.get("gotHeaders"), m.get("completed"), m.get("failed")));
        r.append(String.format(Locale.ROOT, "  refused 503 %s | other HTTP %s | dropped, no response %s | headers, no"
                        + " terminal %s | error/stopped %s | text mismatch %s | bench socket errors %s%n",
                out.get("refused503"), out.get("otherHttp"), out.get("dropped"), out.get("noTerminal"),
                out.get("errorEvent"), out.get("textMismatch"), out.get("clientError")));
        Map<String, Object> reasons = (Map<String, Object>) m.get("reasons");
        Map<String, Object> samples = (Map<String, Object>) m.get("reasonSamples");
        if (reasons != null && !reasons.isEmpty()) {
            r.append("failures by reason:\n");
            reasons.entrySet().stream()
                    .sorted((a, b) -> Long.compare(((Number) b.getValue()).longValue(), ((Number) a.getValue()).longValue()))
                    .forEach(e -> r.append(String.format(Locale.ROOT, "  %7s  %-40s %s%n", e.getValue(), e.getKey(),
                            samples != null && samples.get(e.getKey()) != null ? "e.g. " + samples.get(e.getKey()) : "")));
        }
        return r.toString();
    }

    @SuppressWarnings("unchecked")
    static String resourceLines(Map<String, Object> m) {
        Map<String, Object> res = (Map<String, Object>) m.get("resources");
        if (res == null) {
            return "";
        }
        StringBuilder r = new StringBuilder();
        Map<String, Object> server = (Map<String, Object>) res.get("server");
        if (server != null) {
            r.append("server        min / max / at peak open streams\n");
            for (String k : List.of("threads", "rssMiB", "fds")) {
                Map<String, Object> v = (Map<String, Object>) server.get(k);
                r.append(String.format(Locale.ROOT, "  %-11s %s / %s / %s%n", k, v.get("min"), v.get("max"),
                        v.get("atPeakOpen")));
            }
            r.append(String.format(Locale.ROOT, "  VmHWM       %s MiB (peak RSS since the server started)%n",
                    server.get("vmHwmMiB")));
        }
        r.append("CPU, % of one core (max 1 s / average):");
        for (String who : List.of("server", "bench", "upstream")) {
            Map<String, Object> x = (Map<String, Object>) res.get(who);
            if (x != null) {
                Map<String, Object> c = (Map<String, Object>) x.get("cpuPct");
                r.append(String.format(Locale.ROOT, "  %s %s / %s", who.equals("bench") ? "load client" : who,
                        c.get("max") instanceof Number mx ? Math.round(mx.doubleValue()) : "-",
                        c.get("avg") instanceof Number av ? Math.round(av.doubleValue()) : "-"));
            }
        }
        if (res.get("machine") instanceof Map<?, ?> machine) {
            r.append(String.format(Locale.ROOT, "  machine %s (other processes %s)", machine.get("busyPct"),
                    machine.get("othersPct")));
        }
        r.append('\n');
        if (m.get("upstream") instanceof Map<?, ?> up) {
            r.append("fake upstream ").append(up).append('\n');
        }
        return r.toString();
    }

    private void printHeap(Map<String, Object> m) {
        StringBuilder r = new StringBuilder("\n").append(RULE).append("SLUICE HEAP  ").append(m.get("label")).append('\n')
                .append(RULE);
        r.append(String.format(Locale.ROOT, "live heap     %s MiB before, %s MiB with %s streams open (class histogram, "
                + "after a full GC)%n", m.get("liveBeforeMiB"), m.get("liveAtPlateauMiB"), m.get("openAtGc")));
        r.append(String.format(Locale.ROOT, "used heap     %s MiB before, %s MiB open (GC.heap_info: %s KiB per stream)%n",
                m.get("usedBeforeMiB"), m.get("usedAtPlateauMiB"), m.get("usedHeapPerStreamKiB")));
        r.append(String.format(Locale.ROOT, "per stream    %s KiB, of which text %s bytes (%s chars in all)%n",
                m.get("heapPerStreamKiB"), m.get("textPerStreamBytes"), m.get("textChars")));
        r.append(String.format(Locale.ROOT, "beyond text   %s KiB per open stream (target <= 32 KiB)%n",
                m.get("heapPerStreamBeyondTextKiB")));
        if (m.get("warning") != null) {
            r.append("warning       ").append(m.get("warning")).append('\n');
        }
        r.append("metrics       before ").append(m.get("metricsBefore")).append(", at the plateau ")
                .append(m.get("metricsAtPlateau")).append('\n');
        r.append("grew most (live bytes / instances per open stream):\n");
        for (Object row : (List<?>) m.get("histogramGrowth")) {
            Map<?, ?> x = (Map<?, ?>) row;
            r.append(String.format(Locale.ROOT, "  %10s B %8s  %s%n", x.get("bytesPerStream"), x.get("instancesPerStream"),
                    x.get("class")));
        }
        r.append(outcomeLines(m));
        r.append(resourceLines(m));
        r.append(RULE);
        System.out.print(r);
    }

    private void printRelay(Map<String, Object> m) {
        StringBuilder r = new StringBuilder("\n").append(RULE).append("SLUICE RELAY  ").append(m.get("label")).append('\n')
                .append(RULE);
        r.append(String.format(Locale.ROOT, "relayed       %s upstream chunk events/s, %s SSE message events/s, %s chars/s"
                        + " (completed streams, over %s s)%n", m.get("upstreamEventsPerSecond"),
                m.get("sseEventsPerSecond"), m.get("charsPerSecond"), m.get("spanSeconds")));
        r.append(outcomeLines(m));
        r.append("first token  ").append(line(m, "ttftMs")).append('\n');
        r.append("duration     ").append(line(m, "durationMs")).append('\n');
        r.append(resourceLines(m));
        r.append(RULE);
        System.out.print(r);
    }

    // ------------------------------------------------------------------ small helpers

    static String describe(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && (c instanceof java.util.concurrent.ExecutionException
                || c instanceof java.util.concurrent.CompletionException)) {
            c = c.getCause();
        }
        String m = c.getMessage();
        return shorten(c.getClass().getSimpleName() + (m == null ? "" : ": " + m));
    }

    static String shorten(String s) {
        if (s == null) {
            return null;
        }
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() <= 160 ? t : t.substring(0, 160) + "...";
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
        try {
            return (String) new Json(json, i).value();
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ JSON

    /**
     * A small JSON (RFC 8259) reader and writer for the results file: objects become {@link LinkedHashMap}s, arrays
     * {@link ArrayList}s, integers {@link Long}, other numbers {@link Double}. Throws IllegalArgumentException on
     * malformed input.
     */
    static final class Json {
        private final String s;
        private int i;

        Json(String s, int at) {
            this.s = s;
            this.i = at;
        }

        static Object parse(String text) {
            Json j = new Json(text, 0);
            Object v = j.value();
            j.ws();
            if (j.i != text.length()) {
                throw j.error("trailing text");
            }
            return v;
        }

        Object value() {
            ws();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (peek('}')) {
                        return m;
                    }
                    do {
                        ws();
                        if (s.charAt(i) != '"') {
                            throw error("expected a name");
                        }
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                    } while (peek(','));
                    expect('}');
                    return m;
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (peek(']')) {
                        return l;
                    }
                    do {
                        l.add(value());
                        ws();
                    } while (peek(','));
                    expect(']');
                    return l;
                }
                case '"' -> {
                    return string();
                }
                case 't' -> {
                    return literal("true", Boolean.TRUE);
                }
                case 'f' -> {
                    return literal("false", Boolean.FALSE);
                }
                case 'n' -> {
                    return literal("null", null);
                }
                default -> {
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    String n = s.substring(start, i);
                    if (n.isEmpty()) {
                        throw error("unexpected character");
                    }
                    return n.contains(".") || n.contains("e") || n.contains("E") ? (Object) Double.parseDouble(n)
                            : (Object) Long.parseLong(n);
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) {
                throw error("expected " + word);
            }
            i += word.length();
            return v;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + i);
        }

        /** Writes a value, two-space indented; an object or array of scalars only stays on one line. */
        static String write(Object v) {
            StringBuilder b = new StringBuilder();
            write(b, v, "");
            return b.append('\n').toString();
        }

        private static boolean flat(Object v) {
            Iterable<?> items = v instanceof Map<?, ?> m ? m.values() : v instanceof List<?> l ? l : null;
            if (items == null) {
                return true;
            }
            for (Object x : items) {
                if (x instanceof Map<?, ?> || x instanceof List<?>) {
                    return false;
                }
            }
            return true;
        }

        private static void write(StringBuilder b, Object v, String indent) {
            if (v instanceof Map<?, ?> m) {
                if (m.isEmpty()) {
                    b.append("{}");
                    return;
                }
                boolean one = flat(v);
                String in = indent + "  ";
                b.append('{');
                boolean first = true;
                for (var e : m.entrySet()) {
                    b.append(first ? "" : ",").append(one ? (first ? "" : " ") : "\n" + in);
                    first = false;
                    quote(b, String.valueOf(e.getKey()));
                    b.append(": ");
                    write(b, e.getValue(), in);
                }
                b.append(one ? "" : "\n" + indent).append('}');
            } else if (v instanceof List<?> l) {
                if (l.isEmpty()) {
                    b.append("[]");
                    return;
                }
                boolean one = flat(v);
                String in = indent + "  ";
                b.append('[');
                boolean first = true;
                for (Object x : l) {
                    b.append(first ? "" : ",").append(one ? (first ? "" : " ") : "\n" + in);
                    first = false;
                    write(b, x, in);
                }
                b.append(one ? "" : "\n" + indent).append(']');
            } else if (v instanceof String str) {
                quote(b, str);
            } else if (v instanceof Double d) {
                b.append(d.isNaN() || d.isInfinite() ? "null" : d.toString());
            } else {
                b.append(v); // Long, Integer, Boolean, null
            }
        }

        private static void quote(StringBuilder b, String s) {
            b.append('"');
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            b.append(c);
                        }
                    }
                }
            }
            b.append('"');
        }
    }

    // ------------------------------------------------------------------ the results file

    /**
     * The results file: {@code {"runs":[{"id","database","commit","startedAt","machine","meta","scenarios":[...]}]}}.
     * Each scenario's figures are appended to the run {@code --run-id} names (created when missing), so one
     * {@code bench.sh} run per database is one run in the file, and earlier runs stay.
     */
    static final class Results {
        private final Path path;
        private final String runId;
        private final Options o;

        Results(Path path, Options o) {
            this.path = path;
            this.o = o;
            this.runId = o.runId != null ? o.runId
                    : DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now())
                    + "-" + o.database;
        }

        Path path() {
            return path;
        }

        String runId() {
            return runId;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> read(Path path) throws IOException {
            if (!Files.exists(path)) {
                Map<String, Object> root = new LinkedHashMap<>();
                root.put("runs", new ArrayList<>());
                return root;
            }
            return (Map<String, Object>) Json.parse(Files.readString(path));
        }

        @SuppressWarnings("unchecked")
        synchronized void append(Map<String, Object> scenario) throws IOException {
            Map<String, Object> root = read(path);
            List<Object> runs = (List<Object>) root.computeIfAbsent("runs", k -> new ArrayList<>());
            Map<String, Object> run = null;
            for (Object r : runs) {
                if (runId.equals(((Map<String, Object>) r).get("id"))) {
                    run = (Map<String, Object>) r;
                }
            }
            if (run == null) {
                run = new LinkedHashMap<>();
                run.put("id", runId);
                run.put("database", o.database);
                run.put("commit", commit());
                run.put("startedAt", Instant.now().toString());
                run.put("base", o.base);
                run.put("machine", machine());
                run.put("meta", new LinkedHashMap<>());
                run.put("scenarios", new ArrayList<>());
                runs.add(run);
            }
            ((Map<String, Object>) run.computeIfAbsent("meta", k -> new LinkedHashMap<>())).putAll(o.meta);
            ((List<Object>) run.computeIfAbsent("scenarios", k -> new ArrayList<>())).add(scenario);
            Files.createDirectories(path.toAbsolutePath().getParent());
            Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
            Files.writeString(tmp, Json.write(root));
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        /** {@code git rev-parse --short HEAD}, with {@code -dirty} when tracked files differ from it. */
        static String commit() {
            String head = run("git", "rev-parse", "--short", "HEAD");
            if (head == null) {
                return "unknown";
            }
            String status = run("git", "status", "--porcelain", "--untracked-files=no");
            return head + (status == null || status.isEmpty() ? "" : "-dirty");
        }

        private static String run(String... command) {
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                return p.waitFor() == 0 ? out : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        static Map<String, Object> machine() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cpus", Runtime.getRuntime().availableProcessors());
            m.put("cpuModel", grep(Path.of("/proc/cpuinfo"), "model name"));
            String mem = grep(Path.of("/proc/meminfo"), "MemTotal");
            m.put("memoryMiB", mem == null ? null : Long.parseLong(mem.split("\\s+")[0]) / 1024);
            m.put("kernel", readQuietly(Path.of("/proc/sys/kernel/osrelease")));
            String os = grep(Path.of("/etc/os-release"), "PRETTY_NAME");
            m.put("os", os == null ? System.getProperty("os.name") : os.replace("\"", "").replaceFirst("^=", ""));
            m.put("hostname", readQuietly(Path.of("/proc/sys/kernel/hostname")));
            m.put("benchJava", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
            return m;
        }

        private static String grep(Path file, String key) {
            try {
                for (String line : Files.readAllLines(file)) {
                    if (line.startsWith(key)) {
                        String rest = line.substring(key.length()).strip();
                        return rest.startsWith(":") ? rest.substring(1).strip() : rest;
                    }
                }
            } catch (IOException e) {
                // not on Linux
            }
            return null;
        }

        private static String readQuietly(Path file) {
            try {
                return Files.readString(file).strip();
            } catch (IOException e) {
                return null;
            }
        }
    }

    // ------------------------------------------------------------------ the issue's table and the chart

    /**
     * {@code --report}: reads the results file, takes the runs of {@code --runs} (or the latest run of each
     * database), prints issue 9's table (measure | target | one column per database) with a verdict per cell, a
     * detail table of the load rows (resources included), and writes the Markdown to {@code --table-out} and an SVG
     * chart of first-token and longest-gap p50/p99 against the number of streams, one colour per database, to
     * {@code --chart}.
     */
    static final class Report {
        static final int FDS_FOR_10K = 20_500;

        @SuppressWarnings("unchecked")
        static int run(Options o) throws IOException {
            Path file = Path.of(o.results);
            if (!Files.exists(file)) {
                System.err.println("no results file " + file.toAbsolutePath());
                return 2;
            }
            List<Map<String, Object>> all = new ArrayList<>();
            for (Object r : (List<Object>) Results.read(file).get("runs")) {
                all.add((Map<String, Object>) r);
            }
            List<Map<String, Object>> runs = new ArrayList<>();
            if (!o.runs.isEmpty()) {
                for (String id : o.runs) {
                    all.stream().filter(r -> id.equals(r.get("id"))).reduce((a, b) -> b).ifPresentOrElse(runs::add,
                            () -> System.err.println("no run " + id + " in " + file));
                }
            } else {
                Map<String, Map<String, Object>> latest = new LinkedHashMap<>();
                for (Map<String, Object> r : all) {
                    latest.remove(String.valueOf(r.get("database")));
                    latest.put(String.valueOf(r.get("database")), r);
                }
                runs.addAll(latest.values());
                runs.sort(Comparator.comparingInt(r -> dbOrder(String.valueOf(r.get("database")))));
            }
            if (runs.isEmpty()) {
                System.err.println("no runs to report");
                return 2;
            }
            String md = table(runs);
            System.out.print(md);
            Path tableOut = Path.of(o.tableOut);
            Path chart = Path.of(o.chart);
            Files.createDirectories(tableOut.toAbsolutePath().getParent());
            Files.writeString(tableOut, md);
            Files.createDirectories(chart.toAbsolutePath().getParent());
            Files.writeString(chart, svg(runs));
            System.out.println();
            System.out.println("results JSON: " + file.toAbsolutePath());
            System.out.println("table:        " + tableOut.toAbsolutePath());
            System.out.println("chart (SVG):  " + chart.toAbsolutePath());
            return 0;
        }

        private static int dbOrder(String db) {
            return switch (db.toLowerCase(Locale.ROOT)) {
                case "h2" -> 0;
                case "postgresql", "postgres" -> 1;
                default -> 2;
            };
        }

        static String dbLabel(String db) {
            return switch (db.toLowerCase(Locale.ROOT)) {
                case "h2" -> "H2";
                case "postgresql", "postgres" -> "PostgreSQL";
                default -> db;
            };
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> last(Map<String, Object> run, String scenario, Integer streams) {
            Map<String, Object> found = null;
            for (Object x : (List<Object>) run.getOrDefault("scenarios", List.of())) {
                Map<String, Object> s = (Map<String, Object>) x;
                if (scenario.equals(s.get("scenario"))
                        && (streams == null || (s.get("streams") instanceof Number n && n.intValue() == streams))) {
                    found = s;
                }
            }
            return found;
        }

        static double num(Map<String, Object> m, String... path) {
            Object v = m;
            for (String k : path) {
                if (!(v instanceof Map<?, ?> x)) {
                    return Double.NaN;
                }
                v = x.get(k);
            }
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        static String ms(double v) {
            if (Double.isNaN(v)) {
                return "-";
            }
            if (Math.abs(v) >= 1000) {
                return String.format(Locale.ROOT, "%.2f s", v / 1000);
            }
            return Math.abs(v) >= 10 ? Math.round(v) + " ms" : String.format(Locale.ROOT, "%.1f ms", v);
        }

        static String count(double v) {
            return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,d", Math.round(v));
        }

        private static String verdict(boolean met) {
            return met ? " — met" : " — **not met**";
        }

        /** The non-zero outcomes other than completed, e.g. "refused 503 12, dropped 3". */
        static String others(Map<String, Object> s) {
            List<String> parts = new ArrayList<>();
            String[][] names = {{"refused503", "refused 503"}, {"otherHttp", "other HTTP"}, {"dropped", "dropped"},
                    {"noTerminal", "no terminal"}, {"errorEvent", "error/stopped"}, {"textMismatch", "text mismatch"},
                    {"clientError", "bench socket errors"}};
            for (String[] n : names) {
                double v = num(s, "outcomes", n[0]);
                if (v > 0) {
                    parts.add(n[1] + " " + count(v));
                }
            }
            return String.join(", ", parts);
        }

        static String load1k(Map<String, Object> s) {
            if (s == null) {
                return "not run";
            }
            double n = num(s, "streams");
            double done = num(s, "completed");
            double failed = n - done;
            double ttft = num(s, "ttftMs", "p99");
            double gap = num(s, "gapMs", "p99");
            double dur = num(s, "durationMs", "p95");
            String o = others(s);
            return count(done) + "/" + count(n) + " completed, " + count(failed) + " failed" + (o.isEmpty() ? "" : " (" + o + ")")
                    + "; first token p99 " + ms(ttft) + "; longest gap p99 " + ms(gap) + "; duration p95 " + ms(dur)
                    + verdict(failed == 0 && ttft <= 500 && gap <= 200 && dur <= 11_000);
        }

        /** A round of the {@code cold} scenario ({@code "first"} or {@code "second"}), with the 1,000 row's verdict. */
        @SuppressWarnings("unchecked")
        static String coldRound(Map<String, Object> cold, String round) {
            if (cold == null || !(cold.get(round) instanceof Map<?, ?> m)) {
                return "not run";
            }
            Map<String, Object> s = (Map<String, Object>) m;
            double ttft50 = num(s, "ttftMs", "p50");
            double others = num(s, "resources", "machine", "othersPct");
            return load1k(s).replace("; first token p99 ", "; first token p50 " + ms(ttft50) + ", p99 ")
                    + (Double.isNaN(others) ? "" : " (other processes took " + Math.round(others) + " % of a core)");
        }

        /** Process start to {@code /health/ready} UP (and to the first answer of {@code /api/info}). */
        static String coldReady(Map<String, Object> cold) {
            if (cold == null) {
                return "not run";
            }
            double ready = num(cold, "readyMs");
            double deployed = num(cold, "deployedMs");
            return ms(ready) + (Double.isNaN(deployed) ? "" : " (the application answered after " + ms(deployed) + ")");
        }

        static String load5k(Map<String, Object> s) {
            if (s == null) {
                return "not run";
            }
            double n = num(s, "streams");
            double done = num(s, "completed");
            double ttft = num(s, "ttftMs", "p99");
            double gap = num(s, "gapMs", "p99");
            String o = others(s);
            return count(done) + "/" + count(n) + " completed, " + count(n - done) + " failed or refused"
                    + (o.isEmpty() ? "" : " (" + o + ")") + "; first token p99 " + ms(ttft) + "; longest gap p99 "
                    + ms(gap) + verdict(n == done && ttft <= 1000 && gap <= 500);
        }

        static String load10k(Map<String, Object> s, Map<String, Object> run) {
            if (s == null) {
                return "not run";
            }
            double n = num(s, "streams");
            double done = num(s, "completed");
            double refused = num(s, "outcomes", "refused503");
            double refusedBad = 0;
            if (s.get("reasons") instanceof Map<?, ?> reasons) {
                for (var e : reasons.entrySet()) {
                    if (String.valueOf(e.getKey()).startsWith("http_503_") && e.getValue() instanceof Number v) {
                        refusedBad += v.doubleValue();
                    }
                }
            }
            double refusalP99 = num(s, "refusalMs", "p99");
            double dropped = num(s, "outcomes", "dropped");
            double noTerminal = num(s, "outcomes", "noTerminal");
            double rest = n - done - refused - dropped - noTerminal;
            boolean atOnce = refused == 0 || refusalP99 <= 1000;
            StringBuilder b = new StringBuilder();
            b.append(count(done)).append(" completed, ").append(count(refused)).append(" refused with 503");
            if (refused > 0) {
                b.append(" (p99 ").append(ms(refusalP99)).append(" after the request");
                if (refusedBad > 0) {
                    b.append(", ").append(count(refusedBad)).append(" without Retry-After or problem+json");
                }
                b.append(')');
            }
            b.append(", ").append(count(dropped)).append(" dropped unanswered, ").append(count(noTerminal))
                    .append(" with headers but no terminal event");
            if (rest > 0) {
                b.append(", ").append(count(rest)).append(" other (").append(others(s)).append(')');
            }
            b.append(verdict(done + refused == n && refusedBad == 0 && atOnce));
            double fdLimit = num(run, "meta", "serverFdLimit");
            if (!Double.isNaN(fdLimit) && fdLimit < FDS_FOR_10K) {
                b.append(" (server fd limit ").append(count(fdLimit)).append(" < ").append(count(FDS_FOR_10K))
                        .append(" needed)");
            }
            return b.toString();
        }

        static String sequential(Map<String, Object> s) {
            if (s == null) {
                return "not run";
            }
            double p50 = num(s, "addedMs", "p50");
            double p99 = num(s, "addedMs", "p99");
            double failed = num(s, "directFailed") + num(s, "sluiceFailed");
            return "added p50 " + ms(p50) + ", p99 " + ms(p99) + " (direct p50 " + ms(num(s, "directMs", "p50"))
                    + ", through Sluice p50 " + ms(num(s, "sluiceMs", "p50")) + "; " + count(num(s, "addedMs", "n"))
                    + " pairs" + (failed > 0 ? ", " + count(failed) + " failed" : "") + ")"
                    + verdict(p50 <= 2 && p99 <= 10 && failed == 0);
        }

        static String heap(Map<String, Object> s) {
            if (s == null) {
                return "not run";
            }
            double beyond = num(s, "heapPerStreamBeyondTextKiB");
            return String.format(Locale.ROOT, "%.1f KiB (%.1f KiB per open stream, of which text %.0f B; %s open, %s → %s MiB)",
                    beyond, num(s, "heapPerStreamKiB"), num(s, "textPerStreamBytes"), count(num(s, "openAtGc")),
                    s.get("usedBeforeMiB"), s.get("usedAtPlateauMiB"))
                    + verdict(beyond <= 32 && num(s, "openAtGc") == num(s, "streams"));
        }

        static String relay(Map<String, Object> s) {
            if (s == null) {
                return "not run";
            }
            double ev = num(s, "upstreamEventsPerSecond");
            double failed = num(s, "failed");
            return count(ev) + " upstream events/s (" + count(num(s, "sseEventsPerSecond")) + " SSE events/s, "
                    + count(num(s, "charsPerSecond")) + " chars/s; " + count(num(s, "clients")) + " clients, "
                    + count(num(s, "completed")) + " streams" + (failed > 0 ? ", " + count(failed) + " failed" : "")
                    + ")" + verdict(ev >= 50_000 && failed == 0);
        }

        static String table(List<Map<String, Object>> runs) {
            StringBuilder b = new StringBuilder();
            b.append("| measure | target |");
            for (Map<String, Object> r : runs) {
                b.append(' ').append(dbLabel(String.valueOf(r.get("database")))).append(" |");
            }
            b.append("\n| --- | --- |").append(" --- |".repeat(runs.size())).append('\n');
            row(b, "1,000 streams (first turns, ramp 10 s, 100 × 100 ms)",
                    "0 failed; first token p99 ≤ 500 ms; longest gap p99 ≤ 200 ms; duration p95 ≤ 11 s",
                    runs, r -> load1k(last(r, "load", 1000)));
            row(b, "1,000 streams on a fresh node, the first round after `/health/ready` (no warm-up by the bench)",
                    "0 failed; first token p99 ≤ 500 ms; longest gap p99 ≤ 200 ms; duration p95 ≤ 11 s",
                    runs, r -> coldRound(last(r, "cold", null), "first"));
            row(b, "the same node, the second round", "as above", runs, r -> coldRound(last(r, "cold", null), "second"));
            row(b, "process start to `/health/ready` UP", "report", runs, r -> coldReady(last(r, "cold", null)));
            row(b, "5,000 streams", "0 failed or refused; first token p99 ≤ 1 s; longest gap p99 ≤ 500 ms",
                    runs, r -> load5k(last(r, "load", 5000)));
            row(b, "10,000 streams", "every stream completes or is refused at once with 503; none dropped unanswered",
                    runs, r -> load10k(last(r, "load", 10000), r));
            row(b, "sequential added first-token time, first turn, vs the upstream directly", "p50 ≤ 2 ms, p99 ≤ 10 ms",
                    runs, r -> sequential(last(r, "sequential", null)));
            row(b, "live heap per open stream (after GC, 2,000 slow streams), beyond its text", "≤ 32 KiB",
                    runs, r -> heap(last(r, "heap", null)));
            row(b, "relay ceiling: fast upstream (chunks with no delay), one stream per client",
                    "report events/s; ≥ 50,000", runs, r -> relay(last(r, "relay", null)));
            b.append('\n');
            for (Map<String, Object> r : runs) {
                Map<?, ?> m = r.get("machine") instanceof Map<?, ?> x ? x : Map.of();
                b.append(String.format(Locale.ROOT, "- %s: run `%s`, commit `%s`, %s CPUs (%s), %s MiB, %s%s%n",
                        dbLabel(String.valueOf(r.get("database"))), r.get("id"), r.get("commit"), m.get("cpus"),
                        m.get("cpuModel"), m.get("memoryMiB"), m.get("os"),
                        meta(r.get("meta"))));
            }
            b.append("\nLoad rows in detail (CPU in % of one core, average / 1 s max; the load client and the fake"
                    + " upstream share the machine):\n\n");
            b.append("| database | streams | completed | not completed | first token p50 / p99 | longest gap p50 / p99 |"
                    + " duration p50 / p95 | server CPU | load client CPU | upstream CPU | server RSS max | fds max |"
                    + " threads max |\n");
            b.append("| --- ".repeat(13)).append("|\n");
            for (Map<String, Object> r : runs) {
                List<Map.Entry<String, Map<String, Object>>> rows = new ArrayList<>();
                for (int n : loadSizes(r)) {
                    rows.add(Map.entry(count(n), last(r, "load", n)));
                }
                Map<String, Object> cold = last(r, "cold", null);
                for (String round : List.of("first", "second")) {
                    if (cold != null && cold.get(round) instanceof Map<?, ?> m) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> s = (Map<String, Object>) m;
                        rows.add(Map.entry(count(num(s, "streams")) + ", cold, " + round + " round", s));
                    }
                }
                for (Map.Entry<String, Map<String, Object>> row : rows) {
                    Map<String, Object> s = row.getValue();
                    String o = others(s);
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s | %s | %s | %s | %s | %s |%n",
                            dbLabel(String.valueOf(r.get("database"))), row.getKey(), count(num(s, "completed")),
                            o.isEmpty() ? "0" : o, ms(num(s, "ttftMs", "p50")), ms(num(s, "ttftMs", "p99")),
                            ms(num(s, "gapMs", "p50")), ms(num(s, "gapMs", "p99")), ms(num(s, "durationMs", "p50")),
                            ms(num(s, "durationMs", "p95")), cpu(s, "server"), cpu(s, "bench"), cpu(s, "upstream"),
                            mib(num(s, "resources", "server", "rssMiB", "max")),
                            count(num(s, "resources", "server", "fds", "max")),
                            count(num(s, "resources", "server", "threads", "max"))));
                }
            }
            return b.toString();
        }

        /** "; payara 6.2025.10, serverFdLimit 20000" from a run's meta, empty values left out. */
        private static String meta(Object meta) {
            if (!(meta instanceof Map<?, ?> m)) {
                return "";
            }
            List<String> parts = new ArrayList<>();
            m.forEach((k, v) -> {
                if (v != null && !String.valueOf(v).isBlank()) {
                    parts.add(k + " `" + v + "`");
                }
            });
            return parts.isEmpty() ? "" : "; " + String.join(", ", parts);
        }

        private static String cpu(Map<String, Object> s, String who) {
            double avg = num(s, "resources", who, "cpuPct", "avg");
            double max = num(s, "resources", who, "cpuPct", "max");
            return Double.isNaN(avg) ? "-" : Math.round(avg) + " / " + Math.round(max) + " %";
        }

        private static String mib(double v) {
            return Double.isNaN(v) ? "-" : count(v) + " MiB";
        }

        @SuppressWarnings("unchecked")
        static TreeSet<Integer> loadSizes(Map<String, Object> run) {
            TreeSet<Integer> sizes = new TreeSet<>();
            for (Object x : (List<Object>) run.getOrDefault("scenarios", List.of())) {
                Map<String, Object> s = (Map<String, Object>) x;
                if ("load".equals(s.get("scenario")) && s.get("streams") instanceof Number n) {
                    sizes.add(n.intValue());
                }
            }
            return sizes;
        }

        private static void row(StringBuilder b, String measure, String target, List<Map<String, Object>> runs,
                                java.util.function.Function<Map<String, Object>, String> cell) {
            b.append("| ").append(measure).append(" | ").append(target).append(" |");
            for (Map<String, Object> r : runs) {
                b.append(' ').append(cell.apply(r).replace("|", "\\|")).append(" |");
            }
            b.append('\n');
        }

        // ---- the chart

        private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

        /** Two panels (first token, longest gap), x = streams, y = ms on a log scale; p50 solid, p99 dashed. */
        static String svg(List<Map<String, Object>> runs) {
            int w = 1000;
            int h = 470;
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                    + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", w, h, w, h));
            b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
            Map<String, Object> first = runs.get(0);
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%s</text>%n",
                    w / 2, xml("Sluice under load: first token and longest gap vs concurrent streams (commit "
                            + first.get("commit") + ", " + String.valueOf(first.get("startedAt")).substring(0, 10) + ")")));
            // legend
            int lx = 70;
            for (int i = 0; i < runs.size(); i++) {
                String colour = COLOURS[i % COLOURS.length];
                String label = dbLabel(String.valueOf(runs.get(i).get("database")));
                int advance = 30 + 7 * (label.length() + 4) + 24;
                b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"44\" x2=\"%d\" y2=\"44\" stroke=\"%s\" stroke-width=\"2\"/>"
                        + "<text x=\"%d\" y=\"48\">%s p50</text>%n", lx, lx + 24, colour, lx + 30, xml(label)));
                lx += advance;
                b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"44\" x2=\"%d\" y2=\"44\" stroke=\"%s\" stroke-width=\"2\""
                        + " stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"48\">%s p99</text>%n", lx, lx + 24, colour, lx + 30,
                        xml(label)));
                lx += advance;
            }
            b.append(String.format(Locale.ROOT, "<path d=\"M %d 40 l 6 4 l -6 4 l -6 -4 z\" fill=\"none\" stroke=\"#555\"/>"
                    + "<text x=\"%d\" y=\"48\">issue 9 target (p99)</text>%n", lx + 6, lx + 18));
            panel(b, runs, "first token (request to first message event)", "ttftMs", 60, 70, 430, 340,
                    new double[][]{{1000, 500}, {5000, 1000}});
            panel(b, runs, "longest gap between two message events per stream", "gapMs", 550, 70, 430, 340,
                    new double[][]{{1000, 200}, {5000, 500}});
            b.append("</svg>\n");
            return b.toString();
        }

        private static void panel(StringBuilder b, List<Map<String, Object>> runs, String title, String dist, int x0,
                                  int y0, int pw, int ph, double[][] targets) {
            TreeSet<Integer> xs = new TreeSet<>();
            double lo = Double.MAX_VALUE;
            double hi = 0;
            for (Map<String, Object> r : runs) {
                for (int n : loadSizes(r)) {
                    xs.add(n);
                    Map<String, Object> s = last(r, "load", n);
                    for (String q : List.of("p50", "p99")) {
                        double v = num(s, dist, q);
                        if (!Double.isNaN(v)) {
                            lo = Math.min(lo, Math.max(v, 1));
                            hi = Math.max(hi, Math.max(v, 1));
                        }
                    }
                }
            }
            for (double[] t : targets) {
                lo = Math.min(lo, t[1]);
                hi = Math.max(hi, t[1]);
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"13\">%s</text>%n",
                    x0 + pw / 2, y0 + 8, xml(title)));
            int top = y0 + 20;
            int bottom = top + ph - 40;
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n",
                    x0, top, pw, bottom - top));
            if (xs.isEmpty()) {
                b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no load runs</text>%n",
                        x0 + pw / 2, (top + bottom) / 2));
                return;
            }
            double dLo = Math.floor(Math.log10(lo));
            double dHi = Math.max(dLo + 1, Math.ceil(Math.log10(hi)));
            double xMax = xs.last() * 1.08;
            java.util.function.DoubleUnaryOperator sx = v -> x0 + v / xMax * pw;
            java.util.function.DoubleUnaryOperator sy = v -> bottom - (Math.log10(Math.max(v, 1e-9)) - dLo) / (dHi - dLo) * (bottom - top);
            for (int d = (int) dLo; d <= (int) dHi; d++) {
                for (int k : new int[]{1, 2, 5}) {
                    double v = k * Math.pow(10, d);
                    if (Math.log10(v) > dHi + 1e-9) {
                        continue;
                    }
                    double y = sy.applyAsDouble(v);
                    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                            x0, y, x0 + pw, y, k == 1 ? "#ccc" : "#eee"));
                    if (k == 1 || dHi - dLo <= 2) {
                        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                                x0 - 5, y + 4, axis(v)));
                    }
                }
            }
            for (int n : xs) {
                double x = sx.applyAsDouble(n);
                b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>"
                        + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, bottom, x, bottom + 5, x,
                        bottom + 18, count(n)));
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">concurrent streams (ramp 10 s,"
                    + " 100 chunks × 100 ms)</text>%n", x0 + pw / 2, bottom + 34));
            for (double[] t : targets) {
                if (xs.contains((int) t[0])) {
                    double x = sx.applyAsDouble(t[0]);
                    double y = sy.applyAsDouble(t[1]);
                    b.append(String.format(Locale.ROOT, "<path d=\"M %.1f %.1f l 6 6 l -6 6 l -6 -6 z\" fill=\"none\""
                            + " stroke=\"#555\"/>%n", x, y - 6));
                }
            }
            for (int i = 0; i < runs.size(); i++) {
                String colour = COLOURS[i % COLOURS.length];
                for (String q : List.of("p50", "p99")) {
                    StringBuilder pts = new StringBuilder();
                    StringBuilder marks = new StringBuilder();
                    for (int n : loadSizes(runs.get(i))) {
                        double v = num(last(runs.get(i), "load", n), dist, q);
                        if (Double.isNaN(v)) {
                            continue;
                        }
                        double x = sx.applyAsDouble(n);
                        double y = sy.applyAsDouble(Math.max(v, 1));
                        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                        marks.append(q.equals("p50")
                                ? String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s %s %s: %s</title></circle>%n",
                                x, y, colour, xml(dbLabel(String.valueOf(runs.get(i).get("database")))), count(n), q, xml(ms(v)))
                                : String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"><title>%s %s %s: %s</title></rect>%n",
                                x - 4, y - 4, colour, xml(dbLabel(String.valueOf(runs.get(i).get("database")))), count(n), q, xml(ms(v))));
                    }
                    if (pts.length() > 0) {
                        b.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
                                pts.toString().strip(), colour, q.equals("p99") ? " stroke-dasharray=\"6 4\"" : ""));
                        b.append(marks);
                    }
                }
            }
        }

        /** An axis label: 1 ms, 20 ms, 500 ms, 1 s, 2 s, 50 s. */
        private static String axis(double ms) {
            if (ms < 1000) {
                return Math.round(ms) + " ms";
            }
            double s = ms / 1000;
            return (s == Math.rint(s) ? Long.toString(Math.round(s)) : String.format(Locale.ROOT, "%.1f", s)) + " s";
        }

        private static String xml(String s) {
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
        }
    }
}
