package io.sluice.operations.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.conversations.entity.MessageStatus;
import io.sluice.providers.control.FailureCode;
import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.UpstreamException;
import io.sluice.streams.control.Stream;
import io.sluice.streams.control.StreamStatus;
import io.sluice.streams.control.StreamType;
import jakarta.json.JsonObject;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The recording side of the metrics: what each hook counts, under which names and labels; the known label values at
 * zero on a fresh registry; the JVM's figures under Prometheus' usual {@code jvm_*} names; a scrape that passes
 * {@code promtool check metrics}.
 */
class StreamMetricsTest {

    private final StreamMetrics metrics = new StreamMetrics();

    /** A listener that only remembers what reached it. */
    private static final class Recorder implements GenerationListener {
        final List<String> calls = new ArrayList<>();
        final io.sluice.providers.control.RawCapture raw = new io.sluice.providers.control.RawCapture(64);

        @Override
        public io.sluice.providers.control.RawCapture rawCapture() {
            return raw;
        }

        @Override
        public void onDelta(String content, String reasoning) {
            calls.add("delta:" + content + "/" + reasoning);
        }

        @Override
        public void onComplete(String finishReason, JsonObject usage, String model) {
            calls.add("complete:" + finishReason + "/" + model);
        }

        @Override
        public void onFailure(UpstreamException failure) {
            calls.add("failure:" + failure.code());
        }
    }

    @Test
    void aProbeRecordsTheFirstTokenOnceAndEachIntervalAndPassesEveryCallOn() {
        StreamMetrics.Probe probe = metrics.streamStarted(StreamType.CHAT, "openai");
        Recorder target = new Recorder();
        GenerationListener listener = probe.listening(target);
        listener.onDelta("a", null);
        listener.onDelta(null, "r");
        listener.onDelta("b", null);
        listener.onComplete("stop", null, "m");
        assertEquals(List.of("delta:a/null", "delta:null/r", "delta:b/null", "complete:stop/m"), target.calls);
        assertSame(target.raw, listener.rawCapture(), "the raw record is the stream's");
        String text = metrics.scrape();
        assertTrue(text.contains("sluice_streams_started_total{route=\"openai\",type=\"chat\"} 1"), text);
        assertTrue(text.contains("sluice_stream_first_token_seconds_count{route=\"openai\",type=\"chat\"} 1"), text);
        assertTrue(text.contains("sluice_stream_event_interval_seconds_count{route=\"openai\",type=\"chat\"} 2"), text);
    }

    @Test
    void endsAreCountedByTypeStatusCodeAndRoute() {
        StreamMetrics.Probe chat = metrics.streamStarted(StreamType.CHAT, "openai");
        chat.ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "stop", null, "m", null), 1200);
        StreamMetrics.Probe failed = metrics.streamStarted(StreamType.CHAT, "openai");
        failed.ended(new Stream.End(StreamStatus.ERROR, MessageStatus.ERROR, "UPSTREAM_TIMEOUT", null, null, "m",
                new UpstreamException(FailureCode.UPSTREAM_TIMEOUT, "slow")), 3000);
        StreamMetrics.Probe stopped = metrics.streamStarted(StreamType.TOPIC_TITLE, "simulated");
        stopped.ended(new Stream.End(StreamStatus.STOPPED, MessageStatus.STOPPED, "a reason any client may send", null, null,
                null, null), 10);
        String text = metrics.scrape();
        assertTrue(text.contains("sluice_streams_total{code=\"none\",route=\"openai\",status=\"completed\","
                + "type=\"chat\"} 1"), text);
        assertTrue(text.contains("sluice_streams_total{code=\"UPSTREAM_TIMEOUT\",route=\"openai\",status=\"error\","
                + "type=\"chat\"} 1"), text);
        assertTrue(text.contains("sluice_upstream_errors_total{code=\"UPSTREAM_TIMEOUT\"} 1"), text);
        assertTrue(text.contains("sluice_stream_stops_total{reason=\"other\"} 1"), "free-text reasons are bounded");
        assertTrue(text.contains("sluice_stream_duration_seconds_bucket{status=\"completed\",type=\"chat\",le=\"2.0\"} 1"),
                text);
        StreamMetrics.Summary summary = metrics.summary();
        assertEquals(1.0, summary.endedByStatus().get("error"));
        assertEquals(1.0, summary.errorsByCode().get("UPSTREAM_TIMEOUT"));
    }

    @Test
    void theWarmUpsStreamsAreNotRecordedAndResetForgetsCountsButKeepsGauges() {
        StreamMetrics.Probe warm = metrics.streamStarted(StreamType.CHAT, io.sluice.providers.control.Providers.WARMUP_LABEL);
        Recorder target = new Recorder();
        warm.listening(target).onDelta("a", null);
        warm.ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "stop", null, "m", null), 5);
        assertEquals(List.of("delta:a/null"), target.calls, "the stream itself is served as any");
        assertTrue(!metrics.scrape().contains("warm up"), metrics.scrape());

        metrics.gauge("sluice.streams.active", "Running streams", () -> 3);
        StreamMetrics.Probe chat = metrics.streamStarted(StreamType.CHAT, "openai");
        chat.listening(target).onDelta("a", null);
        chat.ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "stop", null, "m", null), 5);
        metrics.resumed("sse");
        metrics.routesKnown(List.of("simulated"));
        assertTrue(metrics.scrape().contains("sluice_streams_total{code=\"none\",route=\"openai\""), metrics.scrape());
        metrics.reset();
        String text = metrics.scrape();
        assertTrue(!text.contains("route=\"openai\"") && !text.contains("sluice_stream_first_token_seconds"), text);
        // the known label values are back at zero, for rate() and the alert rules (OperationsIT saw them missing
        // on a node whose warm-up had reset the metrics)
        assertSample(text, "sluice_stream_resumes_total{transport=\"sse\"}", 0);
        assertSample(text, "sluice_stream_resumes_total{transport=\"websocket\"}", 0);
        assertSample(text, "sluice_stream_stops_total{reason=\"server_shutdown\"}", 0);
        assertSample(text, "sluice_streams_started_total{route=\"simulated\",type=\"chat\"}", 0);
        assertTrue(text.contains("sluice_streams_active 3"), text);
        assertTrue(metrics.summary().endedByStatus().isEmpty());
        assertTrue(Double.isNaN(metrics.summary().firstTokenP95Seconds()));
        metrics.streamStarted(StreamType.CHAT, "openai").ended(new Stream.End(StreamStatus.COMPLETED,
                MessageStatus.COMPLETED, null, "stop", null, "m", null), 5);
        assertTrue(metrics.scrape().contains("sluice_streams_total{code=\"none\",route=\"openai\",status=\"completed\","
                + "type=\"chat\"} 1"), "counting starts again from zero");
    }

    @Test
    void connectionAndResumeCountersHaveTheirContractNames() {
        metrics.zombieReaped();
        metrics.duplicateReplaced();
        metrics.duplicateReplaced();
        metrics.unloadAbortRequested();
        metrics.resumed("websocket");
        metrics.resumeLatency("sse", 40_000_000L);
        metrics.gauge("sluice.connections.active", "Live connections", () -> 7);
        String text = metrics.scrape();
        assertTrue(text.contains("sluice_connections_reaped_total 1"), text);
        assertTrue(text.contains("sluice_connections_replaced_total 2"), text);
        assertTrue(text.contains("sluice_stream_unload_aborts_total 1"), text);
        assertTrue(text.contains("sluice_stream_resumes_total{transport=\"websocket\"} 1"), text);
        assertTrue(text.contains("sluice_stream_resume_latency_seconds_bucket{transport=\"sse\",le=\"0.05\"} 1"), text);
        assertTrue(text.contains("sluice_connections_active 7"), text);
    }

    @Test
    void knownLabelValuesAreExportedAtZeroFromTheStart() {
        StreamMetrics fresh = new StreamMetrics();
        String text = fresh.scrape();
        for (String transport : List.of("sse", "websocket")) {
            assertSample(text, "sluice_stream_resumes_total{transport=\"" + transport + "\"}", 0);
        }
        for (String reason : List.of("user", "unload", "client_disconnected", "server_shutdown", "other")) {
            assertSample(text, "sluice_stream_stops_total{reason=\"" + reason + "\"}", 0);
        }
        for (FailureCode code : FailureCode.values()) {
            assertSample(text, "sluice_upstream_errors_total{code=\"" + code.name() + "\"}", 0);
        }
        assertSample(text, "sluice_stream_unload_aborts_total", 0);
        assertSample(text, "sluice_connections_reaped_total", 0);
        assertSample(text, "sluice_connections_replaced_total", 0);
        assertFalse(text.contains("sluice_streams_started_total{"), "no route is known yet");

        fresh.routesKnown(List.of("openai", "simulated"));
        fresh.resumed("sse");
        text = fresh.scrape();
        for (String route : List.of("openai", "simulated")) {
            for (StreamType type : StreamType.values()) {
                String labels = "route=\"" + route + "\",type=\"" + type.wire() + "\"";
                assertSample(text, "sluice_streams_started_total{" + labels + "}", 0);
                assertSample(text, "sluice_streams_total{code=\"none\"," + labels.replace(",type", ",status=\"completed\",type")
                        + "}", 0);
            }
        }
        assertSample(text, "sluice_stream_resumes_total{transport=\"sse\"}", 1);
        assertSample(text, "sluice_stream_resumes_total{transport=\"websocket\"}", 0);
        assertEquals(2 * StreamType.values().length, count(text, "sluice_streams_total{"),
                "only the completed series of each type and route: errors and stops appear at their first count");
        StreamMetrics.Summary summary = fresh.summary();
        assertTrue(summary.endedByStatus().isEmpty() && summary.errorsByCode().isEmpty(),
                "the dashboard shows what was counted, not the zeros");

        fresh.streamStarted(StreamType.CHAT, "openai").ended(new Stream.End(StreamStatus.COMPLETED,
                MessageStatus.COMPLETED, null, "stop", null, "m", null), 10);
        text = fresh.scrape();
        assertSample(text, "sluice_streams_started_total{route=\"openai\",type=\"chat\"}", 1);
        assertSample(text, "sluice_streams_total{code=\"none\",route=\"openai\",status=\"completed\",type=\"chat\"}", 1);
    }

    @Test
    void theJvmFiguresHaveTheirUsualPrometheusNames() throws Exception {
        StreamMetrics bound = new StreamMetrics();
        bound.bindJvm();
        try {
            String text = bound.scrape();
            for (String name : List.of("jvm_memory_used_bytes", "jvm_memory_committed_bytes", "jvm_memory_max_bytes",
                    "jvm_buffer_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total", "jvm_gc_live_data_size_bytes",
                    "jvm_threads_live_threads", "jvm_threads_daemon_threads", "jvm_threads_peak_threads",
                    "jvm_threads_states_threads", "jvm_classes_loaded_classes", "jvm_info", "process_cpu_usage",
                    "system_cpu_usage", "process_uptime_seconds", "process_start_time_seconds",
                    "process_files_open_files", "process_files_max_files")) {
                assertTrue(text.contains("\n" + name + "{") || text.contains("\n" + name + " "), name + " in\n" + text);
            }
            assertTrue(text.contains("jvm_memory_used_bytes{area=\"heap\","), text);
            assertFalse(text.contains("system_cpu_count") || text.contains("process_cpu_time_ns"),
                    "the names promtool's lint refuses are left out");
            assertTrue(text.contains("jvm_memory_max_bytes{area=\"heap\","), text);
            // the GC pause timer is made by the first collection the JVM reports
            long deadline = System.nanoTime() + 10_000_000_000L;
            System.gc();
            while (!bound.scrape().contains("jvm_gc_pause_seconds_count{") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(bound.scrape().contains("jvm_gc_pause_seconds_count{"), bound.scrape());
            bound.bindJvm(); // once: a second call binds nothing twice
            assertEquals(1, count(bound.scrape(), "jvm_threads_live_threads "));
        } finally {
            bound.close();
            bound.close(); // and closing twice is harmless
        }
    }

    @Test
    void theScrapePassesPromtoolsLint() throws Exception {
        assumeTrue(Promtool.path() != null, Promtool.MISSING);
        metrics.bindJvm();
        metrics.routesKnown(List.of("openai", "simulated"));
        StreamMetrics.Probe probe = metrics.streamStarted(StreamType.CHAT, "openai");
        probe.listening(new Recorder()).onDelta("x", null);
        probe.ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "stop", null, "m", null), 5);
        metrics.resumed("sse");
        metrics.gauge("sluice.streams.active", "Streams running on this node", () -> 0);
        System.gc(); // so that the scrape likely has jvm_gc_pause_seconds too
        try {
            Promtool.Result r = Promtool.run(new File("."), metrics.scrape(), "check", "metrics");
            assertEquals(0, r.exitCode(), r.output());
        } finally {
            metrics.close();
        }
    }

    /** Asserts that one sample line of {@code text} is {@code series} with {@code value}. */
    private static void assertSample(String text, String series, double value) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), series + " in\n" + text);
        assertEquals(value, Double.parseDouble(m.group(1)), series);
    }

    /** The sample lines of {@code text} that start with {@code prefix}. */
    private static long count(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).count();
    }
}
