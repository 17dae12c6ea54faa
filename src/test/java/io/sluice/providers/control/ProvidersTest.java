package io.sluice.providers.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.platform.control.ProblemException;
import io.sluice.streams.control.StreamType;
import jakarta.json.Json;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Model routing (API.md section 10) and its configuration, without a container. */
class ProvidersTest {

    private final ExecutorService work = Executors.newFixedThreadPool(1);
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);

    @AfterEach
    void stop() {
        work.shutdownNow();
        timers.shutdownNow();
    }

    private static final String ROUTES = """
            [{"name":"r1","type":"thinking","url":"http://t:1/v1/","apiKey":"k1","upstreamModel":"deepseek-reasoner"},
             {"name":"small","type":"fast","url":"http://f:1/v1"},
             {"name":"big","type":"instruct","url":"https://i:1/v1","upstreamModel":"qwen3-32b"},
             {"name":"big2","type":"instruct","url":"https://i:1/v1"}]""";

    private Providers providers(String models, String upstreamUrl, String upstreamModel) {
        Providers p = new Providers();
        p.config = new SluiceConfig() {
            @Override
            public Optional<String> models() {
                return Optional.ofNullable(models);
            }

            @Override
            public Optional<String> modelsFile() {
                return Optional.empty();
            }

            @Override
            public Optional<String> upstreamUrl() {
                return Optional.ofNullable(upstreamUrl);
            }

            @Override
            public Optional<String> upstreamModel() {
                return Optional.ofNullable(upstreamModel);
            }

            @Override
            public Optional<String> upstreamApiKey() {
                return Optional.empty();
            }

            @Override
            public Duration upstreamTimeout() {
                return Duration.ofSeconds(5);
            }

            @Override
            public int simulatedTokensPerSecond() {
                return 30;
            }
        };
        p.executors = new ManagedExecutors() {
            @Override
            public ExecutorService work() {
                return work;
            }

            @Override
            public ScheduledExecutorService timers() {
                return timers;
            }
        };
        p.init();
        return p;
    }

    @Test
    void namesTypesAndStreamTypesPickRoutes() {
        Providers p = providers(ROUTES, "http://ignored:1/v1", null);
        assertTrue(p.routed());
        assertEquals(List.of("r1", "small", "big", "big2"), p.routes().stream().map(Route::name).toList());
        Route r1 = p.resolve("r1", StreamType.CHAT);
        assertEquals("deepseek-reasoner", r1.upstreamModel());
        assertEquals("r1", r1.model(), "streams record the route's name");
        assertEquals("openai", r1.providerName());
        assertEquals("small", p.resolve("small", StreamType.CHAT).upstreamModel(), "upstreamModel defaults to name");
        assertEquals("r1", p.resolve("thinking", StreamType.CHAT).name());
        assertEquals("big", p.resolve("instruct", StreamType.CHAT).name(), "a type's first route");
        assertEquals("big", p.resolve(null, StreamType.CHAT).name());
        assertEquals("big", p.resolve(null, StreamType.COMPLETION).name());
        assertEquals("big", p.resolve(null, StreamType.GENERATE).name());
        assertEquals("big", p.resolve(null, StreamType.AGENT).name());
        for (StreamType typed : List.of(StreamType.CONVERSATION_TITLE, StreamType.TOPIC_TITLE,
                StreamType.PROMPT_OPTIMIZATION, StreamType.SYSTEM_PROMPT)) {
            assertEquals("small", p.resolve(null, typed).name(), typed.wire());
        }
        assertEquals("small", p.forFollowUp("big2", StreamType.CONVERSATION_TITLE).name(),
                "a title goes to the fast route, not the chat's");
        assertEquals("simulated", p.resolve("simulated-reasoning", StreamType.CHAT).providerName());
        assertEquals("big", p.effectiveModel(null));
        assertTrue(p.upstreamConfigured());
    }

    @Test
    void theWarmUpsRouteAnswersOnlyItsRandomNameAndItsTitlesAndIsRefusedOnceEnded() {
        for (Providers p : List.of(providers(ROUTES, null, null), providers(null, "http://real:1/v1", null))) {
            String name = p.beginWarmup("http://127.0.0.1:9/v1");
            assertTrue(name.startsWith("warmup-") && name.length() > 40, name);
            Route warm = p.resolve(name, StreamType.CHAT);
            assertEquals(name, warm.model(), "streams and messages record the name, so a second turn finds it");
            assertEquals("warmup", warm.upstreamModel());
            assertEquals(Providers.WARMUP_LABEL, warm.label());
            assertEquals(warm, p.forFollowUp(name, StreamType.CONVERSATION_TITLE), "its titles stay on it");
            assertFalse(p.routes().contains(warm));
            assertFalse(p.stats().containsKey(Providers.WARMUP_LABEL), "not counted in GET /api/metrics");
            if (p.routed()) {
                assertThrows(ProblemException.class, () -> p.resolve("warmup-other", StreamType.CHAT));
            } else {
                assertEquals("warmup-other", p.resolve("warmup-other", StreamType.CHAT).upstreamModel(),
                        "another name is passed through to the one upstream, as any name");
            }
            p.endWarmup();
            ProblemException e = assertThrows(ProblemException.class, () -> p.resolve(name, StreamType.CHAT));
            assertEquals(400, e.status());
            assertThrows(ProblemException.class, () -> p.forFollowUp(name, StreamType.CONVERSATION_TITLE),
                    "never passed through to the real upstream");
        }
    }

    @Test
    void anUnknownModelIsA400ListingTheKnownNames() {
        Providers p = providers(ROUTES, null, null);
        ProblemException e = assertThrows(ProblemException.class, () -> p.resolve("gpt-4o", StreamType.CHAT));
        assertEquals(400, e.status());
        assertEquals("unknown-model", e.type());
        assertTrue(e.getMessage().contains("r1, small, big, big2, thinking, fast, instruct"), e.getMessage());
        assertFalse(p.known("gpt-4o"));
        assertTrue(p.known("fast"));
    }

    @Test
    void withoutRoutesAFirstRouteServesEveryTypeAndNameWhenNoRouteHasTheType() {
        Providers p = providers("""
                [{"name":"only","type":"thinking","url":"http://t:1/v1"}]""", null, null);
        assertEquals("only", p.resolve(null, StreamType.TOPIC_TITLE).name(), "no fast route: the first one");
        assertThrows(ProblemException.class, () -> p.resolve("fast", StreamType.CHAT),
                "a type with no route is unknown");
    }

    @Test
    void withoutSluiceModelsTheSingleUpstreamTakesAnyName() {
        Providers p = providers(null, "http://u:1/v1", "gpt-4.1-nano");
        assertFalse(p.routed());
        assertTrue(p.routes().isEmpty(), "no routes to pick from");
        assertEquals("gpt-4.1-nano", p.resolve(null, StreamType.CHAT).upstreamModel());
        assertEquals("gpt-4.1-nano", p.resolve("fast", StreamType.CHAT).upstreamModel(), "every type: the one");
        Route passed = p.resolve("sample:whatever", StreamType.CHAT);
        assertEquals("sample:whatever", passed.upstreamModel(), "API.md section 2: sent upstream as it is");
        assertEquals("openai", passed.providerName());
        assertEquals("sample:whatever", p.forFollowUp("sample:whatever", StreamType.CONVERSATION_TITLE)
                .upstreamModel(), "a title uses the chat's model on the single upstream");
        assertEquals("simulated", p.resolve("simulated", StreamType.CHAT).providerName());

        Providers noModel = providers(null, "http://u:1/v1", null);
        assertNull(noModel.resolve(null, StreamType.CHAT).upstreamModel(), "the provider chooses");
        assertNull(noModel.effectiveModel(null));
    }

    @Test
    void withNothingConfiguredTheSimulatedModelAnswers() {
        Providers p = providers(null, null, null);
        assertFalse(p.upstreamConfigured());
        Route route = p.resolve(null, StreamType.CHAT);
        assertEquals("simulated", route.providerName());
        assertEquals("simulated", route.upstreamModel());
        assertEquals("simulated", p.effectiveModel(null));
        assertEquals("simulated", p.resolve("anything", StreamType.CHAT).providerName());
    }

    @Test
    void countsArePerRoute() {
        Providers p = providers(ROUTES, null, null);
        Route small = p.resolve("small", StreamType.CHAT);
        GenerationListener quiet = new GenerationListener() {
            @Override
            public void onDelta(String content, String reasoning) {
            }

            @Override
            public void onComplete(String finishReason, jakarta.json.JsonObject usage, String model) {
            }

            @Override
            public void onFailure(UpstreamException failure) {
            }
        };
        RouteStats stats = new RouteStats("test");
        GenerationListener counted = stats.watch(quiet);
        assertNull(counted.rawCapture(), "the listener keeps none");
        RawCapture raw = new RawCapture(64);
        assertSame(raw, new RouteStats("other").watch(new GenerationListener() {
            @Override
            public void onDelta(String content, String reasoning) {
            }

            @Override
            public void onComplete(String finishReason, jakarta.json.JsonObject usage, String model) {
            }

            @Override
            public void onFailure(UpstreamException failure) {
            }

            @Override
            public RawCapture rawCapture() {
                return raw;
            }
        }).rawCapture(), "passed on");
        counted.onFailure(new UpstreamException(FailureCode.UPSTREAM_UNAVAILABLE, "refused"));
        assertEquals(1, stats.requests());
        assertEquals(1, stats.failures(FailureCode.UPSTREAM_UNAVAILABLE));
        assertEquals(1, stats.toJson().getInt("failures"));
        assertEquals(0, p.stats().getJsonObject("small").getInt("requests"));
        assertTrue(p.stats().containsKey("big2"));
        assertEquals("small", small.name());
    }

    @Test
    void badConfigurationsAreRefusedWithTheRouteAtFault() {
        for (String bad : List.of("[]", "{}", "[{\"name\":\"a\",\"type\":\"fast\"}]",
                "[{\"name\":\"a\",\"type\":\"slow\",\"url\":\"http://h/v1\"}]",
                "[{\"name\":\"a\",\"type\":\"fast\",\"url\":\"ftp://h/v1\"}]",
                "[{\"name\":\"a\",\"type\":\"fast\",\"url\":\"http://h/v1\",\"apikey\":\"typo\"}]",
                "[{\"name\":\"a b\",\"type\":\"fast\",\"url\":\"http://h/v1\"}]",
                "[{\"name\":\"a\",\"type\":\"fast\",\"url\":\"http://h/v1\"},"
                        + "{\"name\":\"a\",\"type\":\"fast\",\"url\":\"http://h/v1\"}]")) {
            assertThrows(IllegalArgumentException.class,
                    () -> ModelRoute.parse(Json.createReader(new StringReader(bad)).readValue()), bad);
        }
        assertThrows(IllegalStateException.class, () -> providers("not json", null, null));
        ModelRoute route = ModelRoute.parse(Json.createReader(new StringReader(ROUTES)).readValue()).get(0);
        assertEquals("http://t:1/v1", route.url(), "no trailing slash");
        assertFalse(route.toString().contains("k1"), "the key never shows");
    }
}
