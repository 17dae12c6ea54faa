package io.sluice.providers.control;

/**
 * A source of streamed chat completions: an OpenAI-compatible upstream or the simulated model. Providers
 * never hold a thread while waiting for the model: output is pushed to the listener as it arrives.
 */
public interface ChatProvider {

    /** Short name shown to clients: {@code openai} or {@code simulated}. */
    String name();

    /**
     * Starts a generation and returns at once; output and the outcome reach {@code listener}. Failures,
     * including a refused connection, are reported through {@link GenerationListener#onFailure}, never
     * thrown.
     */
    Generation stream(CompletionRequest request, GenerationListener listener);
}
