package io.sluice.chat.control;

import io.sluice.providers.control.GenerationListener;
import io.sluice.providers.control.RawCapture;
import io.sluice.providers.control.UpstreamException;
import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The listener of an upstream request that starts before its stream exists (issue 21: a chat turn's upstream call
 * overlaps the commit of its user message). Until {@link #attach} it holds what the provider tells it, in order; at
 * the attach it hands that on to the stream's listener, then passes every later call straight through. So nothing of
 * the answer reaches a client, and nothing is saved, before the turn's transaction has committed (the seed's rule:
 * the user message is durable before any of the answer is shown); when it rolls back, the request is cancelled and
 * what was held is dropped.
 *
 * <p>What it holds is what the upstream sends during the commit (milliseconds; bounded by the stream's
 * {@code SLUICE_STREAM_MAX_CHARS} like any answer). The raw record of the response ({@link RawCapture}) is made here,
 * before the stream, and handed to the stream at its start. Calls may come from any thread; the provider makes them
 * one at a time.
 */
final class GatedListener implements GenerationListener {

    private final RawCapture raw;
    /** The calls held before the attach; {@code null} once attached. Guarded by {@code this}. */
    private List<Consumer<GenerationListener>> held = new ArrayList<>();
    /** The stream's listener, published once everything held was handed to it. */
    private volatile GenerationListener target;

    /** @param raw the raw record of the upstream response, or {@code null} where none is kept */
    GatedListener(RawCapture raw) {
        this.raw = raw;
    }

    /**
     * Hands what was held to {@code listener}, in order, then lets every later call through.
     *
     * @throws IllegalStateException when attached twice
     */
    void attach(GenerationListener listener) {
        synchronized (this) {
            if (held == null) {
                throw new IllegalStateException("attached twice");
            }
            for (Consumer<GenerationListener> call : held) {
                call.accept(listener);
            }
            held = null;
            target = listener;
        }
    }

    @Override
    public void onDelta(String content, String reasoning) {
        GenerationListener t = target;
        if (t != null) {
            t.onDelta(content, reasoning);
        } else {
            deliver(l -> l.onDelta(content, reasoning));
        }
    }

    @Override
    public void onComplete(String finishReason, JsonObject usage, String model) {
        GenerationListener t = target;
        if (t != null) {
            t.onComplete(finishReason, usage, model);
        } else {
            deliver(l -> l.onComplete(finishReason, usage, model));
        }
    }

    @Override
    public void onFailure(UpstreamException failure) {
        GenerationListener t = target;
        if (t != null) {
            t.onFailure(failure);
        } else {
            deliver(l -> l.onFailure(failure));
        }
    }

    @Override
    public RawCapture rawCapture() {
        return raw;
    }

    /** Holds the call, or makes it when the attach happened meanwhile. */
    private void deliver(Consumer<GenerationListener> call) {
        GenerationListener t;
        synchronized (this) {
            if (held != null) {
                held.add(call);
                return;
            }
            t = target;
        }
        call.accept(t);
    }
}
