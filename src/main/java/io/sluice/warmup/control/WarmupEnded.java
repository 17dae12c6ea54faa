package io.sluice.warmup.control;

/**
 * The node's warm-up traffic is over and the node reports ready (issue 22): fired synchronously by {@link Warmup},
 * once, when its requests are done or its bound ({@code SLUICE_WARMUP_SECONDS}) passed. Observed by
 * {@code io.sluice.operations.control.StreamMetrics}, which forgets every count made so far, so that the metrics count
 * from the moment the node became ready.
 *
 * @param timedOut whether the bound passed before the warm-up's requests were done
 */
public record WarmupEnded(boolean timedOut) {
}
