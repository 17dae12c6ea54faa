package io.sluice.identity.control;

import io.sluice.platform.control.SluiceConfig;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * The node's per-client-address rate limits (issue 11, rule 10): new anonymous identities
 * ({@code SLUICE_NEW_IDENTITIES_PER_MINUTE}) and stream creation ({@code SLUICE_STREAMS_PER_MINUTE}), each a
 * {@link RateLimiter} with a burst of one minute's worth, tracking at most 100,000 addresses.
 */
@ApplicationScoped
public class EdgeLimits {

    private static final int MAX_ADDRESSES = 100_000;

    @Inject
    SluiceConfig config;

    private RateLimiter identities;
    private RateLimiter streams;

    @PostConstruct
    void start() {
        identities = new RateLimiter(config.newIdentitiesPerMinute(), config.newIdentitiesPerMinute(), MAX_ADDRESSES);
        streams = new RateLimiter(config.streamsPerMinute(), config.streamsPerMinute(), MAX_ADDRESSES);
    }

    /** New anonymous identities per client address. */
    public RateLimiter identities() {
        return identities;
    }

    /** Stream creations per client address. */
    public RateLimiter streams() {
        return streams;
    }
}
