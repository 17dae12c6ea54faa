package io.sluice.chat.control;

import io.sluice.conversations.control.ConversationStore;
import io.sluice.conversations.control.Turn;
import io.sluice.platform.control.ManagedExecutors;
import io.sluice.platform.control.SluiceConfig;
import io.sluice.providers.control.ChatProvider;
import io.sluice.providers.control.CompletionRequest;
import io.sluice.providers.control.Providers;
import jakarta.annotation.PreDestroy;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedExecutorService;
import jakarta.enterprise.concurrent.ManagedScheduledExecutorService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts chat streams and keeps the running ones, so that they can be counted and, when the application
 * stops, cancelled with their text saved as {@code partial}. Work runs on the application's
 * {@link ManagedExecutorService} ({@link ManagedExecutors#STREAMS}), timers on its
 * {@link ManagedScheduledExecutorService} ({@link ManagedExecutors#TIMERS}).
 */
@ApplicationScoped
public class ChatStreams {

    @Inject
    SluiceConfig config;
    @Inject
    Providers providers;
    @Inject
    ConversationStore store;
    @Resource(lookup = ManagedExecutors.STREAMS)
    ManagedExecutorService executor;
    @Resource(lookup = ManagedExecutors.TIMERS)
    ManagedScheduledExecutorService scheduler;

    private final ConcurrentHashMap<String, ChatStream> running = new ConcurrentHashMap<>();

    /**
     * Starts generating the answer of {@code turn} and streaming it to {@code sink}; returns at once.
     *
     * @return the new stream's id (a random UUID: 122 random bits)
     */
    public String start(Turn turn, SseEventSink sink, Sse sse) {
        String model = providers.effectiveModel(turn.model());
        ChatProvider provider = providers.forModel(model);
        List<CompletionRequest.ChatMessage> messages = new ArrayList<>(turn.history().size() + 1);
        for (Turn.Entry entry : turn.history()) {
            messages.add(new CompletionRequest.ChatMessage(entry.role(), entry.content()));
        }
        messages.add(new CompletionRequest.ChatMessage("user", turn.message()));
        CompletionRequest request = new CompletionRequest(model, turn.systemPrompt(), messages);

        String streamId = UUID.randomUUID().toString();
        ChatStream.Settings settings = new ChatStream.Settings(config.heartbeat(), config.flushMillis(),
                config.flushChars(), config.maxGenerationChars());
        ChatStream stream = new ChatStream(streamId, turn, provider, request, request.toOpenAiJson().toString(),
                sink, sse, executor, scheduler, store, settings, s -> running.remove(s.streamId()));
        running.put(streamId, stream);
        executor.execute(stream::open);
        return streamId;
    }

    /** How many streams are running on this node now. */
    public int runningCount() {
        return running.size();
    }

    @PreDestroy
    void shutdown() {
        for (ChatStream stream : List.copyOf(running.values())) {
            stream.shutdown();
        }
    }
}
