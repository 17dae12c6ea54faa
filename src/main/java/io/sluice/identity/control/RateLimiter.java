package io.sluice.identity.control;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per key (a client address), for the edge's rate limits (issue 11, rule 10): each key may take
 * {@code burst} permits at once and gets {@code perMinute} back per minute, continuously. Memory is bounded: at most
 * {@code maxKeys} buckets are kept; when the map is full, buckets that have refilled completely (idle clients) are
 * dropped first, and if none has, the whole map is cleared (a flood from more addresses than that is the node-wide
 * admission limit's to answer). Thread-safe; plain code, no container.
 */
public final class RateLimiter {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    private final double burst;
    private final double perNano;
    private final int maxKeys;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long stamp;

        Bucket(double tokens, long stamp) {
            this.tokens = tokens;
            this.stamp = stamp;
        }
    }

    /**
     * @param perMinute permits given back per minute and key (more than 0)
     * @param burst     permits a key may take at once (at least 1)
     * @param maxKeys   the most keys tracked at once
     * @throws IllegalArgumentException for values out of range
     */
    public RateLimiter(int perMinute, int burst, int maxKeys) {
        if (perMinute <= 0 || burst < 1 || maxKeys < 1) {
            throw new IllegalArgumentException("perMinute > 0, burst >= 1, maxKeys >= 1");
        }
        this.burst = burst;
        this.perNano = perMinute / (double) MINUTE_NANOS;
        this.maxKeys = maxKeys;
    }

    /**
     * Takes one permit for {@code key} at {@code nowNanos} ({@link System#nanoTime()}).
     *
     * @return 0 when taken; else the seconds (at least 1) until one is back, for {@code Retry-After}
     */
    public long acquire(String key, long nowNanos) {
        if (buckets.size() >= maxKeys && !buckets.containsKey(key)) {
            evict(nowNanos);
        }
        long[] wait = {0};
        buckets.compute(key, (k, b) -> {
            Bucket bucket = b == null ? new Bucket(burst, nowNanos) : b;
            bucket.tokens = Math.min(burst, bucket.tokens + (nowNanos - bucket.stamp) * perNano);
            bucket.stamp = nowNanos;
            if (bucket.tokens >= 1) {
                bucket.tokens -= 1;
            } else {
                wait[0] = Math.max(1, (long) Math.ceil((1 - bucket.tokens) / perNano / 1e9));
            }
            return bucket;
        });
        return wait[0];
    }

    /** Buckets tracked now. */
    public int size() {
        return buckets.size();
    }

    private void evict(long nowNanos) {
        buckets.entrySet().removeIf(e -> e.getValue().tokens + (nowNanos - e.getValue().stamp) * perNano >= burst);
        if (buckets.size() >= maxKeys) {
            buckets.clear();
        }
    }
}
