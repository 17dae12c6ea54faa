package io.sluice.providers.control;

import static io.sluice.platform.control.JsonP.JSON;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Model routing (API.md section 10): which provider and upstream model answer a request, from the {@code model} it
 * names and the type of its stream.
 *
 * <p><b>With {@code SLUICE_MODELS}</b> (or {@code SLUICE_MODELS_FILE}): the configured {@link ModelRoute routes}. A
 * request's model is a route's name, or a type name ({@code thinking}, {@code fast}, {@code instruct}), which picks
 * that type's first route. A request that names none gets the default of its stream's type: a {@code fast} route for
 * typed streams (titles, prompt optimization, system prompts), an {@code instruct} route for chat, completions,
 * one-shot generations and agents; the first route when no route has that type. Any other name is a 400 listing the
 * known ones. Each route has its own upstream client, and its failures are counted under its name
 * ({@link #stats()}); a failing route is never replaced by another silently. {@code SLUICE_UPSTREAM_*} is not used.
 *
 * <p><b>Without it</b> (API.md section 1): one route, the {@code SLUICE_UPSTREAM_*} upstream, or the simulated model
 * when {@code SLUICE_UPSTREAM_URL} is unset. Every type name and a missing model go to its default model
 * ({@code SLUICE_UPSTREAM_MODEL}, or the provider's choice; {@code simulated}), and any other name is sent to it as
 * it is (API.md section 2: "model, when given, is the model name sent upstream").
 *
 * <p>In both, a name that is {@code simulated} or starts with {@code simulated-} is answered by the simulated model
 * (an extension: it stays available for demonstrations and smoke tests), unless a configured route has that name.
 *
 * <p>The configuration is read once, at deployment; a bad {@code SLUICE_MODELS} fails the deployment with a message
 * naming the route at fault.
 */
@ApplicationScoped
public class Providers {

    private static final Logger LOG = Logger.getLogger(Providers.class.getName());
    /**
     * The label of the warm-up's route (issue 22): it holds a space, which no route name may, and the metrics record
     * nothing under it.
     */
    public static final String WARMUP_LABEL = "warm up";
    /** The name under which the simulated model's requests are counted. */
    static final String SIMULATED_STATS = "simulated";

    @Inject
    SluiceConfig config;
    @Inject
    ManagedExecutors executors;

    private SimulatedProvider simulated;
    /** The configured routes in order, by name; empty without {@code SLUICE_MODELS}. */
    private final Map<String, Route> routes = new LinkedHashMap<>();
    /** Without {@code SLUICE_MODELS}: the one route's default, which also takes any other name. */
    private Route single;
    private ChatProvider singleProvider;
    private final Map<String, RouteStats> stats = new LinkedHashMap<>();
    /** The warm-up's route while it runs (issue 22), under its random model name; null otherwise. */
    private volatile Route warmup;
    /** Names of the warm-up routes that ended: refused, never passed through to the upstream. */
    private final java.util.Set<String> retired = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Reads the configuration at deployment, so that a bad {@code SLUICE_MODELS} fails it at once. */
    void onStart(@Observes @Initialized(ApplicationScoped.class) Object started) {
        // observing creates the bean: its @PostConstruct reads the configuration now
    }

    @PostConstruct
    void init() {
        simulated = new SimulatedProvider(executors.timers(), executors.work(), config.simulatedTokensPerSecond());
        stats.put(SIMULATED_STATS, new RouteStats(SIMULATED_STATS));
        Optional<String> json = modelsJson();
        if (json.isPresent()) {
            List<ModelRoute> configured;
            try (JsonReader reader = JSON.createReader(new StringReader(json.get()))) {
                configured = ModelRoute.parse(reader.readValue());
            } catch (JsonException e) {
                throw new IllegalStateException("SLUICE_MODELS is not valid JSON: " + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("SLUICE_MODELS is not valid: " + e.getMessage(), e);
            }
            Map<String, OpenAiProvider> upstreams = new LinkedHashMap<>();
            for (ModelRoute r : configured) {
                // routes to the same upstream with the same key share its clients
                OpenAiProvider upstream = upstreams.computeIfAbsent(r.url() + "\n" + r.apiKey(),
                        k -> new OpenAiProvider(r.url(), r.apiKey(), config.upstreamTimeout(), executors.work(),
                                executors.timers()));
                RouteStats counts = new RouteStats(r.name());
                stats.put(r.name(), counts);
                routes.put(r.name(), new Route(r.name(), r.type(), r.upstreamModel(), upstream, r.name(), counts));
            }
            if (config.upstreamUrl().isPresent()) {
                LOG.info("SLUICE_MODELS is set: SLUICE_UPSTREAM_URL and its key and model are not used");
            }
            LOG.info(() -> "model routes: " + configured);
            return;
        }
        Optional<String> url = config.upstreamUrl();
        String model = config.upstreamModel().orElse(null);
        if (url.isPresent()) {
            singleProvider = new OpenAiProvider(url.get(), config.upstreamApiKey().orElse(null),
                    config.upstreamTimeout(), executors.work(), executors.timers());
            String name = model != null ? model : "default";
            RouteStats counts = new RouteStats(name);
            stats.put(name, counts);
            single = new Route(name, ModelType.INSTRUCT, model, singleProvider, model, counts);
        } else {
            singleProvider = simulated;
            String name = model != null ? model : SimulatedProvider.DEFAULT_MODEL;
            single = new Route(name, ModelType.INSTRUCT, name, simulated, name, stats.get(SIMULATED_STATS));
        }
    }

    private Optional<String> modelsJson() {
        Optional<String> inline = config.models();
        if (inline.isPresent()) {
            return inline;
        }
        return config.modelsFile().map(file -> {
            try {
                return Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException("SLUICE_MODELS_FILE " + file + " cannot be read: " + e, e);
            }
        });
    }

    /**
     * Where a request goes.
     *
     * @param requested the request's {@code model} (a route's name, a type name, a {@code simulated} name, or, without
     *                  {@code SLUICE_MODELS}, any name), or {@code null} for its stream type's default
     * @param type      the stream's type ({@code StreamType}), which picks the default
     * @throws ProblemException 400 {@code unknown-model} for a name no route has, listing the known names
     */
    public Route resolve(String requested, Workload type) {
        if (requested == null) {
            return defaultFor(type);
        }
        Route w = warmup;
        if (w != null && w.name().equals(requested)) {
            return w;
        }
        if (retired.contains(requested)) {
            throw unknown(requested);
        }
        Route named = routes.get(requested);
        if (named != null) {
            return named;
        }
        Optional<ModelType> typeName = ModelType.fromWire(requested);
        if (typeName.isPresent()) {
            if (single != null) {
                return single;
            }
            return first(typeName.get()).orElseThrow(() -> unknown(requested));
        }
        if (SimulatedProvider.handles(requested)) {
            return new Route(requested, ModelType.INSTRUCT, requested, simulated, requested,
                    stats.get(SIMULATED_STATS));
        }
        if (single != null) {
            return new Route(requested, ModelType.INSTRUCT, requested, singleProvider, requested,
                    stats.get(single.name()));
        }
        throw unknown(requested);
    }

    /** Whether a request may name {@code model} ({@link #resolve} would not refuse it). */
    public boolean known(String model) {
        try {
            resolve(model, Workload.CHAT);
            return true;
        } catch (ProblemException e) {
            return false;
        }
    }

    /**
     * The route for a typed stream that follows a chat turn (a conversation's title): with {@code SLUICE_MODELS} the
     * type's default (a {@code fast} route); without, the chat's own model, which is the one name known to work on the
     * single upstream.
     */
    public Route forFollowUp(String chatModel, Workload type) {
        Route w = warmup;
        if (w != null && w.name().equals(chatModel)) {
            return w; // a warm-up chat's title stays on the warm-up's upstream
        }
        if (chatModel != null && retired.contains(chatModel)) {
            throw unknown(chatModel);
        }
        return single != null && chatModel != null ? resolve(chatModel, type) : defaultFor(type);
    }

    /**
     * Opens the warm-up's route (issue 22, {@code io.sluice.warmup}) to an upstream in this process: requests that
     * name the returned model, a random name no one else knows, go there (and so do the titles of its chats), with the
     * same provider code as a configured upstream. The route is not listed and not counted in {@link #stats()}; its
     * metrics label is {@link #WARMUP_LABEL}.
     *
     * @param baseUrl the warm-up upstream's API base, e.g. {@code http://127.0.0.1:41234/v1}
     * @return the model name to send
     */
    public String beginWarmup(String baseUrl) {
        String name = "warmup-" + io.sluice.platform.control.Ids.newId();
        OpenAiProvider provider = new OpenAiProvider(baseUrl, null, config.upstreamTimeout(), executors.work(),
                executors.timers());
        warmup = new Route(name, ModelType.INSTRUCT, "warmup", provider, name, new RouteStats(WARMUP_LABEL));
        return name;
    }

    /** Closes the warm-up's route: its name is then refused as an unknown model (400), never sent upstream. */
    public void endWarmup() {
        Route w = warmup;
        if (w != null) {
            retired.add(w.name());
            warmup = null;
        }
    }

    private Route defaultFor(Workload workload) {
        if (single != null) {
            return single;
        }
        return first(workload.defaultModelType()).orElseGet(() -> routes.values().iterator().next());
    }

    private Optional<Route> first(ModelType type) {
        return routes.values().stream().filter(r -> r.type() == type).findFirst();
    }

    private ProblemException unknown(String requested) {
        List<String> names = new ArrayList<>(routes.keySet());
        for (ModelType type : ModelType.values()) {
            if (first(type).isPresent() && !routes.containsKey(type.wire())) {
                names.add(type.wire());
            }
        }
        String shown = requested.length() > 100 ? requested.substring(0, 100) + "…" : requested;
        return new ProblemException(400, "unknown-model", "unknown model \"" + shown + "\"; known models: "
                + String.join(", ", names));
    }

    /**
     * The configured routes users pick from, in order ({@code GET /api/models}); empty without {@code SLUICE_MODELS},
     * where any name goes to the one upstream.
     */
    public List<Route> routes() {
        return List.copyOf(routes.values());
    }

    /** Whether {@code SLUICE_MODELS} configured the routes. */
    public boolean routed() {
        return single == null;
    }

    /**
     * The model a request that names none gets in a chat (for {@code GET /api/info}), or {@code requested} when it
     * names one: {@code SLUICE_UPSTREAM_MODEL}, {@code simulated}, the default {@code instruct} route's name, or
     * {@code null} when the upstream chooses.
     */
    public String effectiveModel(String requested) {
        return requested != null ? requested : defaultFor(Workload.CHAT).model();
    }

    /** Whether requests without a simulated model name go to a real upstream. */
    public boolean upstreamConfigured() {
        return single == null || singleProvider != simulated;
    }

    /**
     * Every label a stream's route can carry in the metrics ({@link Route#label()}): the configured routes' names, or
     * the one upstream's route, and {@code simulated}; a closed set, fixed at start-up.
     */
    public List<String> routeLabels() {
        return List.copyOf(stats.keySet());
    }

    /** The counts of every route (and of the simulated model), by name, as JSON: see {@link RouteStats#toJson()}. */
    public JsonObject stats() {
        JsonObjectBuilder json = JSON.createObjectBuilder();
        stats.forEach((name, counts) -> json.add(name, counts.toJson()));
        return json.build();
    }
}
