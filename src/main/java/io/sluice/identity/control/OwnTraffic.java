package io.sluice.identity.control;

/**
 * Recognizes the node's own requests (the warm-up's, issue 22, {@code io.sluice.warmup}): such a request, and no
 * other, skips the {@code Host} allowlist, the per-address rate limits and identity issuance in
 * {@code IdentityFilter}, and is owned by {@code warmup:UUID} ({@link Owners#forWarmup}). The seam through which
 * {@code identity} asks without importing the warm-up; its implementation is {@code io.sluice.warmup.control.Warmup}.
 * Thread-safe.
 */
public interface OwnTraffic {

    /** The request header that carries the running warm-up's token. */
    String HEADER = "X-Sluice-Warmup";

    /**
     * Whether a request is the node's own: its {@link #HEADER} value is the running warm-up's token and it comes from
     * an address of this machine. Never true when no warm-up runs.
     *
     * @param header     the request's {@link #HEADER}, or {@code null}
     * @param remoteAddr the peer's address, an IP literal
     */
    boolean admits(String header, String remoteAddr);
}
