package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counts of one route (issue 12: "a route whose upstream fails is reported per route in the metrics"): requests
 * sent, generations completed, and failures by {@link FailureCode}. Lock-free counters; a route's failures never touch
 * another route's counts, and a failing route is never replaced silently by another.
 */
public final class RouteStats {

    private final String route;
    private final LongAdder requests = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final Map<FailureCode, LongAdder> failures = new EnumMap<>(FailureCode.class);

    /** @param route the name the counts are kept under (a route's name, {@code default}, {@code simulated}) */
    public RouteStats(String route) {
        this.route = route;
        for (FailureCode code : FailureCode.values()) {
            failures.put(code, new LongAdder());
        }
    }

    /** The name the counts are kept under: a bounded label for metrics, whatever model names pass through. */
    public String route() {
        return route;
    }

    /** Counts a request and returns a listener that counts its outcome, then passes every call on. */
    GenerationListener watch(GenerationListener listener) {
        requests.increment();
        return new GenerationListener() {
            @Override
            public void onDelta(String content, String reasoning) {
                listener.onDelta(content, reasoning);
            }

            @Override
            public void onComplete(String finishReason, JsonObject usage, String model) {
                completed.increment();
                listener.onComplete(finishReason, usage, model);
            }

            @Override
            public void onFailure(UpstreamException failure) {
                failures.get(failure.code()).increment();
                listener.onFailure(failure);
            }

            @Override
            public RawCapture rawCapture() {
                return listener.rawCapture();
            }
        };
    }

    /** Requests sent so far. */
    public long requests() {
        return requests.sum();
    }

    /** Failures with this code so far. */
    public long failures(FailureCode code) {
        return failures.get(code).sum();
    }

    /**
     * {@code {"requests":N,"completed":N,"failures":N,"failuresByCode":{"UPSTREAM_ERROR":N,...}}}; codes that never
     * occurred are left out. Stops and cancellations are neither completions nor failures.
     */
    public JsonObject toJson() {
        JsonObjectBuilder byCode = JSON.createObjectBuilder();
        long total = 0;
        for (Map.Entry<FailureCode, LongAdder> e : failures.entrySet()) {
            long n = e.getValue().sum();
            if (n > 0) {
                byCode.add(e.getKey().name(), n);
                total += n;
            }
        }
        return JSON.createObjectBuilder()
                .add("requests", requests.sum())
                .add("completed", completed.sum())
                .add("failures", total)
                .add("failuresByCode", byCode)
                .build();
    }
}
