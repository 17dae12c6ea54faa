package io.sluice.providers.control;

import jakarta.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible upstream (OpenAI, DeepSeek, Qwen, vLLM, Ollama, LiteLLM, ...): streams
 * {@code POST {baseUrl}/chat/completions} with {@code "stream": true}. A few JDK {@link HttpClient}s per node
 * (one per core, at least two), streams spread over them in turn: each client reads its sockets on one selector
 * thread, which also parses what it reads, so one client would serialize every stream's parsing. They speak HTTP/1.1
 * with keep-alive; their other callbacks run on the executor given, and no thread is held per stream. Cancelling a
 * generation closes its upstream connection.
 *
 * <p>Timeouts: the connect timeout, then {@link UpstreamCall}'s own idle timer (no byte, headers included, within the
 * timeout). No per-request timeout is given to the client: it would register a timer per request under the
 * client's lock, and the idle timer covers the same wait.
 */
public final class OpenAiProvider implements ChatProvider {

    private final HttpClient[] clients;
    private final AtomicInteger next = new AtomicInteger();
    private final URI endpoint;
    private final String apiKey;
    private final ScheduledExecutorService scheduler;
    private final Duration timeout;

    /**
     * @param baseUrl   the API base, e.g. {@code https://api.openai.com/v1} (no trailing slash)
     * @param apiKey    bearer token, or {@code null}
     * @param timeout   connect timeout and longest silence tolerated
     * @param executor  runs the HTTP client's callbacks
     * @param scheduler runs idle-timeout checks
     * @throws IllegalArgumentException when {@code baseUrl} is not an absolute http(s) URL
     */
    public OpenAiProvider(String baseUrl, String apiKey, Duration timeout, Executor executor,
                          ScheduledExecutorService scheduler) {
        URI base = URI.create(baseUrl);
        if (!"http".equalsIgnoreCase(base.getScheme()) && !"https".equalsIgnoreCase(base.getScheme())) {
            throw new IllegalArgumentException("SLUICE_UPSTREAM_URL must be an http(s) URL");
        }
        this.endpoint = URI.create(baseUrl + "/chat/completions");
        this.apiKey = apiKey;
        this.timeout = timeout;
        this.scheduler = scheduler;
        this.clients = new HttpClient[Math.max(2, Runtime.getRuntime().availableProcessors())];
        for (int i = 0; i < clients.length; i++) {
            clients[i] = HttpClient.newBuilder()
                    // HTTP/1.1: no h2c upgrade attempt on plain http (some OpenAI-compatible servers mishandle it),
                    // and a cancelled stream closes its socket, which every upstream notices
                    .version(HttpClient.Version.HTTP_1_1)
                    .executor(executor)
                    .connectTimeout(timeout)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
        }
    }

    @Override
    public String name() {
        return "openai";
    }

    /** The JSON body sent upstream for {@code request}; also what is saved with the answer. */
    public JsonObject body(CompletionRequest request) {
        return request.toOpenAiJson();
    }

    @Override
    public Generation stream(CompletionRequest request, GenerationListener listener) {
        HttpRequest.Builder http = HttpRequest.newBuilder(endpoint)
                .header("Content-Type", "application/json")
                .header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body(request).toString()));
        if (apiKey != null) {
            http.header("Authorization", "Bearer " + apiKey);
        }
        UpstreamCall call = new UpstreamCall(listener, scheduler, timeout.toMillis());
        HttpClient client = clients[Math.floorMod(next.getAndIncrement(), clients.length)];
        call.started(client.sendAsync(http.build(), call));
        return call;
    }
}
