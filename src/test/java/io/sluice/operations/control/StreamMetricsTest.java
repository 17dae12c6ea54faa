package io.sluice.operations.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.api.Test;

/** The recording side of the metrics: what each hook counts, under which names and labels. */
class StreamMetricsTest {

    private final StreamMetrics metrics = new StreamMetrics();

    /** A listener that only remembers what reached it. */
    private static final class Recorder implements GenerationListener {
        final List<String> calls = new ArrayList<>();

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
        assertTrue(metrics.scrape().contains("sluice_streams_total{code=\"none\",route=\"openai\""), metrics.scrape());
        metrics.reset();
        String text = metrics.scrape();
        assertTrue(!text.contains("sluice_streams_total") && !text.contains("sluice_stream_first_token_seconds")
                && !text.contains("sluice_stream_resumes_total"), text);
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
    void theScrapePassesPromtoolsLint() throws Exception {
        assumeTrue(Promtool.path() != null, Promtool.MISSING);
        StreamMetrics.Probe probe = metrics.streamStarted(StreamType.CHAT, "openai");
        probe.listening(new Recorder()).onDelta("x", null);
        probe.ended(new Stream.End(StreamStatus.COMPLETED, MessageStatus.COMPLETED, null, "stop", null, "m", null), 5);
        metrics.resumed("sse");
        metrics.gauge("sluice.streams.active", "Streams running on this node", () -> 0);
        Promtool.Result r = Promtool.run(new File("."), metrics.scrape(), "check", "metrics");
        assertEquals(0, r.exitCode(), r.output());
    }
}
