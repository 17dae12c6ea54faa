package io.sluice.providers.control;

/**
 * Where one request goes (API.md section 10): the provider and the model sent to it, what the stream records as its
 * model, and the counts of the route it belongs to. {@link Providers#resolve} gives it; callers build their
 * {@link CompletionRequest} with {@link #upstreamModel()} and start it with {@link #stream}. Immutable.
 */
public final class Route {

    private final String name;
    private final ModelType type;
    private final String upstreamModel;
    private final ChatProvider provider;
    private final String recorded;
    private final RouteStats stats;

    /**
     * @param name          the name users give (a route's name, or the name a request passed through)
     * @param upstreamModel the model sent upstream, or {@code null} to let the provider choose
     * @param recorded      the model the stream and its message record, or {@code null}
     * @param stats         the counts of the route this request is counted under
     */
    Route(String name, ModelType type, String upstreamModel, ChatProvider provider, String recorded,
          RouteStats stats) {
        this.name = name;
        this.type = type;
        this.upstreamModel = upstreamModel;
        this.provider = provider;
        this.recorded = recorded;
        this.stats = stats;
    }

    /** The route's name, as {@code GET /api/models} lists it. */
    public String name() {
        return name;
    }

    public ModelType type() {
        return type;
    }

    /** The {@code model} to send upstream, or {@code null} (the provider chooses). */
    public String upstreamModel() {
        return upstreamModel;
    }

    /** The model that streams and messages record: the route's name, or the name passed through; may be null. */
    public String model() {
        return recorded;
    }

    /** The route this request is counted under, a bounded label for metrics (a model passed through is not one). */
    public String label() {
        return stats.route();
    }

    /** {@code openai} or {@code simulated}. */
    public String providerName() {
        return provider.name();
    }

    /** Starts a generation on this route's provider, counted in its route's metrics; see {@link ChatProvider}. */
    public Generation stream(CompletionRequest request, GenerationListener listener) {
        return provider.stream(request, stats.watch(listener));
    }
}
