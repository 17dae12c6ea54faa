package io.sluice.providers.control;

/** A running generation. */
public interface Generation {

    /**
     * Cancels the generation and releases its upstream connection (the upstream sees its socket close, within
     * a second on the JDK's HTTP client). Idempotent; no terminal listener call follows.
     */
    void cancel();
}
