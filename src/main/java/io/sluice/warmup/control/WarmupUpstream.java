package io.sluice.warmup.control;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The warm-up's upstream (issue 22): an OpenAI-compatible {@code POST {base}/chat/completions} in this process, on
 * {@code 127.0.0.1} and a port the system picks, that streams made-up words. No model is called and nothing is
 * billed. Sluice reaches it through its ordinary upstream client, so the warm-up runs the same code as a real
 * upstream's answers: the JDK HTTP client, the event-stream parser, the chunk dialect, the coalescer.
 *
 * <p>An answer is {@code chat.completion.chunk} events ({@code text/event-stream}, HTTP/1.1 chunked): optionally some
 * {@code reasoning_content} deltas, then content deltas of one word each, the first at once and then one every
 * interval, then a chunk with {@code finish_reason: "stop"}, a usage chunk, and {@code data: [DONE]}. The shape is
 * read from a marker in the request body, {@code [warm-up chunks=N interval=M reasoning=R]} (N content chunks, M ms
 * apart, R reasoning chunks first; N and M at most 9999, R at most 999); a request without it (a conversation's
 * title, a continuation) gets {@link #DEFAULT}. Connections are kept alive.
 *
 * <p>One selector thread, made by the {@link ThreadFactory} given, accepts, reads, paces and writes for every
 * connection; no thread is held per answer. A request head over 16 KiB or a body over 1 MiB is answered 413 and the
 * connection closed; another path or method 404; a {@code POST} without {@code Content-Length} 411.
 */
public final class WarmupUpstream implements AutoCloseable {

    /** The answer of a request without a shape marker: 4 words at once. */
    public static final Shape DEFAULT = new Shape(4, 0, 0);

    private static final Logger LOG = Logger.getLogger(WarmupUpstream.class.getName());
    private static final Pattern MARKER = Pattern.compile(
            "\\[warm-up chunks=(\\d{1,4}) interval=(\\d{1,4}) reasoning=(\\d{1,3})]");
    private static final String[] WORDS = {"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "consectetur ",
            "adipiscing ", "elit ", "sed ", "do ", "eiusmod ", "tempor "};
    private static final int MAX_HEAD = 16 * 1024;
    private static final int MAX_BODY = 1024 * 1024;
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};

    /**
     * The shape of one answer.
     *
     * @param chunks     content chunks (one word each), at least 1
     * @param intervalMs pause between chunks in ms (0: all at once)
     * @param reasoning  reasoning chunks sent before the content
     */
    public record Shape(int chunks, int intervalMs, int reasoning) {

        /** The marker that asks for this shape, to put into a user message. */
        public String marker() {
            return "[warm-up chunks=" + chunks + " interval=" + intervalMs + " reasoning=" + reasoning + "]";
        }

        /** The shape a request body asks for, or {@link #DEFAULT}. */
        static Shape in(String body) {
            Matcher m = MARKER.matcher(body);
            if (!m.find()) {
                return DEFAULT;
            }
            return new Shape(Math.max(1, Integer.parseInt(m.group(1))), Integer.parseInt(m.group(2)),
                    Integer.parseInt(m.group(3)));
        }
    }

    private final ServerSocketChannel server;
    private final Selector selector;
    private final PriorityQueue<Answer> due = new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong answers = new AtomicLong();
    private volatile boolean open = true;

    private WarmupUpstream(ServerSocketChannel server, Selector selector) {
        this.server = server;
        this.selector = selector;
    }

    /**
     * Binds a free port of {@code 127.0.0.1} and starts serving on a thread of {@code threads}.
     *
     * @throws IOException when no port can be bound
     */
    public static WarmupUpstream start(ThreadFactory threads) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        Selector selector = Selector.open();
        try {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
            // getLoopbackAddress() is 127.0.0.1, or ::1 on a JVM that prefers IPv6
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            server.close();
            selector.close();
            throw e;
        }
        WarmupUpstream upstream = new WarmupUpstream(server, selector);
        Thread loop = threads.newThread(upstream::loop);
        loop.setName("sluice-warmup-upstream");
        loop.setDaemon(true);
        loop.start();
        return upstream;
    }

    /** The API base to configure as an upstream URL, e.g. {@code http://127.0.0.1:41234/v1}. */
    public URI baseUri() {
        InetSocketAddress bound = (InetSocketAddress) server.socket().getLocalSocketAddress();
        try {
            // this constructor puts an IPv6 literal in brackets
            return new URI("http", null, bound.getAddress().getHostAddress(), bound.getPort(), "/v1", null, null);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Requests received so far (every path). */
    public long requests() {
        return requests.get();
    }

    /** Answers sent to their end ({@code [DONE]}). */
    public long answers() {
        return answers.get();
    }

    /** Stops serving and closes every connection; answers in progress are cut. Idempotent. */
    @Override
    public void close() {
        open = false;
        selector.wakeup();
    }

    private void loop() {
        try {
            while (open) {
                long wait = 0;
                Answer next = due.peek();
                if (next != null) {
                    wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(next.dueNanos - System.nanoTime()) + 1);
                }
                selector.select(wait);
                for (SelectionKey key : selector.selectedKeys()) {
                    handle(key);
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                while (!due.isEmpty() && due.peek().dueNanos <= now) {
                    step(due.poll());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (open) {
                LOG.log(Level.WARNING, "the warm-up's upstream stopped", e);
            }
        } finally {
            for (SelectionKey key : selector.keys()) {
                closeQuietly(key);
            }
            try {
                selector.close();
                server.close();
            } catch (IOException e) {
                LOG.log(Level.FINE, "closing the warm-up's upstream", e);
            }
        }
    }

    private void handle(SelectionKey key) {
        if (!key.isValid()) {
            return;
        }
        try {
            if (key.isAcceptable()) {
                SocketChannel channel;
                while ((channel = server.accept()) != null) {
                    channel.configureBlocking(false);
                    channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                    SelectionKey k = channel.register(selector, SelectionKey.OP_READ);
                    k.attach(new Connection(channel, k));
                }
                return;
            }
            Connection c = (Connection) key.attachment();
            if (key.isReadable()) {
                c.read();
            }
            if (key.isValid() && key.isWritable()) {
                c.flush();
            }
        } catch (IOException | RuntimeException e) {
            closeQuietly(key);
        }
    }

    private void step(Answer a) {
        Connection c = a.connection;
        if (!c.channel.isOpen()) {
            return;
        }
        try {
            c.queue(a.nextEvents());
            if (a.finished()) {
                c.queue(a.end());
                answers.incrementAndGet();
                c.answer = null;
            } else {
                a.dueNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(a.shape.intervalMs());
                due.add(a);
            }
            c.flush();
        } catch (IOException | RuntimeException e) {
            closeQuietly(c.key);
        }
    }

    private static void closeQuietly(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException e) {
            // closing
        }
    }

    /** One client connection: its unread bytes, its queued writes and its answer in progress. */
    private final class Connection {
        final SocketChannel channel;
        final SelectionKey key;
        ByteBuffer in = ByteBuffer.allocate(4096);
        final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        Answer answer;
        boolean closeWhenWritten;

        Connection(SocketChannel channel, SelectionKey key) {
            this.channel = channel;
            this.key = key;
        }

        void read() throws IOException {
            while (true) {
                if (!in.hasRemaining()) {
                    if (in.capacity() >= MAX_HEAD + MAX_BODY) {
                        refuse("413 Content Too Large");
                        return;
                    }
                    ByteBuffer bigger = ByteBuffer.allocate(Math.min(in.capacity() * 2, MAX_HEAD + MAX_BODY));
                    in.flip();
                    bigger.put(in);
                    in = bigger;
                }
                int n = channel.read(in);
                if (n < 0) {
                    closeQuietly(key);
                    return;
                }
                if (n == 0) {
                    break;
                }
            }
            serveBuffered();
        }

        /** Answers the request in {@code in} once it is complete, unless an answer is in progress. */
        void serveBuffered() throws IOException {
            if (answer != null || closeWhenWritten) {
                return;
            }
            byte[] bytes = in.array();
            int length = in.position();
            int headEnd = indexOf(bytes, length, HEAD_END);
            if (headEnd < 0) {
                if (length > MAX_HEAD) {
                    refuse("413 Content Too Large");
                }
                return;
            }
            String head = new String(bytes, 0, headEnd, StandardCharsets.ISO_8859_1);
            String[] lines = head.split("\r\n");
            String[] requestLine = lines[0].split(" ");
            long contentLength = -1;
            boolean close = false;
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).strip();
                if (name.equals("content-length")) {
                    contentLength = Long.parseLong(value);
                } else if (name.equals("connection") && value.equalsIgnoreCase("close")) {
                    close = true;
                }
            }
            boolean post = requestLine.length >= 2 && requestLine[0].equals("POST");
            if (post && contentLength < 0) {
                refuse("411 Length Required");
                return;
            }
            if (contentLength > MAX_BODY) {
                refuse("413 Content Too Large");
                return;
            }
            int bodyStart = headEnd + HEAD_END.length;
            int bodyLength = (int) Math.max(0, contentLength);
            if (length < bodyStart + bodyLength) {
                return; // the rest of the body is still on its way
            }
            String body = new String(bytes, bodyStart, bodyLength, StandardCharsets.UTF_8);
            // keep what follows this request (none is sent before the answer ends; kept all the same)
            int rest = length - bodyStart - bodyLength;
            System.arraycopy(bytes, bodyStart + bodyLength, bytes, 0, rest);
            in.position(rest);
            requests.incrementAndGet();
            closeWhenWritten = close;
            String path = requestLine.length >= 2 ? requestLine[1] : "";
            if (!post || !path.endsWith("/chat/completions")) {
                queue(ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
                flush();
                return;
            }
            queue(ascii("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"));
            answer = new Answer(this, Shape.in(body));
            step(answer);
        }

        void refuse(String status) throws IOException {
            queue(ascii("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
            closeWhenWritten = true;
            answer = null;
            flush();
        }

        void queue(ByteBuffer bytes) {
            out.add(bytes);
        }

        void flush() throws IOException {
            while (!out.isEmpty()) {
                ByteBuffer head = out.peek();
                channel.write(head);
                if (head.hasRemaining()) {
                    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    return;
                }
                out.poll();
            }
            key.interestOps(SelectionKey.OP_READ);
            if (answer == null) {
                if (closeWhenWritten) {
                    closeQuietly(key);
                } else if (in.position() > 0) {
                    serveBuffered();
                }
            }
        }
    }

    /** An answer in progress: the next chunk to send and when. */
    private static final class Answer {
        final Connection connection;
        final Shape shape;
        final int total;
        int sent;
        long dueNanos;

        Answer(Connection connection, Shape shape) {
            this.connection = connection;
            this.shape = shape;
            this.total = shape.reasoning() + shape.chunks();
        }

        boolean finished() {
            return sent >= total;
        }

        /** The next delta event, or all of them when the shape has no pause. */
        ByteBuffer nextEvents() {
            StringBuilder events = new StringBuilder();
            do {
                boolean reasoning = sent < shape.reasoning();
                String word = WORDS[sent % WORDS.length];
                String delta = (sent == 0 ? "{\"role\":\"assistant\"," : "{")
                        + (reasoning ? "\"reasoning_content\":\"" : "\"content\":\"") + word + "\"}";
                events.append(event("{\"id\":\"chatcmpl-warmup\",\"object\":\"chat.completion.chunk\",\"created\":0,"
                        + "\"model\":\"warmup\",\"choices\":[{\"index\":0,\"delta\":" + delta
                        + ",\"finish_reason\":null}]}"));
                sent++;
            } while (shape.intervalMs() == 0 && sent < total);
            return chunk(events.toString());
        }

        /** The finish reason, the usage, {@code [DONE]} and the end of the chunked body. */
        ByteBuffer end() {
            String events = event("{\"id\":\"chatcmpl-warmup\",\"object\":\"chat.completion.chunk\",\"created\":0,"
                    + "\"model\":\"warmup\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}")
                    + event("{\"id\":\"chatcmpl-warmup\",\"object\":\"chat.completion.chunk\",\"created\":0,"
                    + "\"model\":\"warmup\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":"
                    + total + ",\"total_tokens\":" + (total + 8) + "}}")
                    + "data: [DONE]\n\n";
            ByteBuffer last = chunk(events);
            ByteBuffer all = ByteBuffer.allocate(last.remaining() + 5);
            all.put(last).put(ascii("0\r\n\r\n")).flip();
            return all;
        }

        private static String event(String json) {
            return "data: " + json + "\n\n";
        }

        private static ByteBuffer chunk(String payload) {
            byte[] data = payload.getBytes(StandardCharsets.UTF_8);
            byte[] size = (Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.allocate(size.length + data.length + 2);
            b.put(size).put(data).put((byte) '\r').put((byte) '\n').flip();
            return b;
        }
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
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
