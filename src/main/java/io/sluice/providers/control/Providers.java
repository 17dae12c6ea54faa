package io.sluice.providers.control;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Chooses the provider of a request: the simulated model when {@code SLUICE_UPSTREAM_URL} is unset or when
 * the request names a {@code simulated} model (an extension: the simulated model stays available for
 * demonstrations and smoke tests), otherwise the OpenAI-compatible upstream.
 */
@ApplicationScoped
public class Providers {

    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;

    private OpenAiProvider upstream;
    private SimulatedProvider simulated;

    @PostConstruct
    void init() {
        simulated = new SimulatedProvider(executors.timers(), config.simulatedTokensPerSecond());
        upstream = config.upstreamUrl()
                .map(url -> new OpenAiProvider(url, config.upstreamApiKey().orElse(null), config.upstreamTimeout(),
                        executors.work(), executors.timers()))
                .orElse(null);
    }

    /** The provider for {@code model} (the effective model name, possibly {@code null}). */
    public ChatProvider forModel(String model) {
        return upstream == null || SimulatedProvider.handles(model) ? simulated : upstream;
    }

    /**
     * The model name to send for a request that asked for {@code requested} ({@code null}: none): the
     * request's, else {@code SLUICE_UPSTREAM_MODEL}, else {@code simulated} when no upstream is configured,
     * else {@code null} (the upstream chooses).
     */
    public String effectiveModel(String requested) {
        if (requested != null) {
            return requested;
        }
        if (config.upstreamModel().isPresent()) {
            return config.upstreamModel().get();
        }
        return upstream == null ? SimulatedProvider.DEFAULT_MODEL : null;
    }

    /** Whether requests without a simulated model name go to a real upstream. */
    public boolean upstreamConfigured() {
        return upstream != null;
    }
}
