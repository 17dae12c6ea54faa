package io.sluice.bench;

import io.sluice.streams.control.FlushTicker;
import io.sluice.streams.control.LocalStream;
import io.sluice.streams.control.MemoryEventLog;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamType;
import jakarta.json.Json;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What one stream of a long answer holds on the heap (issue 20: a 10 MB answer, {@code SLUICE_STREAM_MAX_CHARS}):
 * feeds a {@link Stream} with the production coalescing (50 ms, 512 UTF-16 code units, 16 Mi cap) an answer of
 * {@code chars} UTF-16 code units in token-sized deltas, and prints the live heap it holds while running and once
 * ended (its log compacted for replay), after a full GC each time, with the text's own size.
 *
 * <p>Run (after {@code mvn test-compile}):
 * <pre>
 * mvn -q dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.sluice.bench.StreamMemory [chars] [ascii|cjk]
 * </pre>
 * Defaults: 10,000,000 code units of ASCII text. A measurement, not a test: nothing fails.
 */
public final class StreamMemory {

    private StreamMemory() {
    }

    /**
     * @param args {@code [chars] [ascii|cjk]}: the answer's length in UTF-16 code units, and its alphabet (ASCII is
     *             stored 1 byte per char by the JVM's compact strings, CJK 2)
     * @throws Exception when interrupted
     */
    public static void main(String[] args) throws Exception {
        int chars = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 10_000_000;
        boolean cjk = args.length > 1 && args[1].equalsIgnoreCase("cjk");
        String token = cjk ? "\u6d41\u5f0f\u8f93\u51fa\u7684\u4e00\u6bb5" : "streamed text ";
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
        FlushTicker ticker = new FlushTicker(timers, FlushTicker.periodFor(50));
        long base = usedAfterGc();
        LocalStream stream = new LocalStream("bench", StreamType.CHAT, null, "bench", null, "m",
                new MemoryEventLog<>(600_000),
                timers, ticker, new Stream.Settings(50, 512, 16 * 1024 * 1024),
                (s, end) -> CompletableFuture.completedFuture(null));
        stream.start(Json.createObjectBuilder().build(), () -> () -> { }, () -> { });
        int fed = 0;
        while (fed < chars) {
            String delta = token.length() <= chars - fed ? token : token.substring(0, chars - fed);
            stream.onDelta(delta, null);
            fed += delta.length();
        }
        Thread.sleep(300); // the held tail is flushed
        long running = usedAfterGc() - base;
        long entries = stream.lastEventId();
        stream.onComplete("stop", null, null);
        Thread.sleep(300);
        long ended = usedAfterGc() - base;
        int length = stream.contentLength();
        Reference.reachabilityFence(stream);
        ticker.stop();
        timers.shutdownNow();
        long textBytes = (long) length * (cjk ? 2 : 1);
        System.out.printf(Locale.ROOT, "answer: %,d UTF-16 code units (%s, %,d bytes as a Java string), %,d events%n",
                length, cjk ? "CJK" : "ASCII", textBytes, entries);
        System.out.printf(Locale.ROOT, "running: %,d bytes live (%.2f x the text)%n", running,
                (double) running / textBytes);
        System.out.printf(Locale.ROOT, "ended:   %,d bytes live (%.2f x the text), retained for replay%n", ended,
                (double) ended / textBytes);
    }

    private static long usedAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
