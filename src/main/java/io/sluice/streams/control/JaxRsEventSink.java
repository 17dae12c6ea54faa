package io.sluice.streams.control;

import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/** An {@link EventSink} over a JAX-RS {@link SseEventSink}: the {@code /api} SSE endpoints. */
public final class JaxRsEventSink implements EventSink {

    private static final Logger LOG = Logger.getLogger(JaxRsEventSink.class.getName());

    private final SseEventSink sink;
    private final Sse sse;

    public JaxRsEventSink(SseEventSink sink, Sse sse) {
        this.sink = sink;
        this.sse = sse;
    }

    @Override
    public boolean send(StreamEvent event) {
        OutboundSseEvent.Builder builder = sse.newEventBuilder();
        if (event.comment()) {
            builder.comment(event.data());
        } else {
            if (event.name() != null) {
                builder.name(event.name());
            }
            builder.data(event.data());
        }
        if (event.id() > 0) {
            builder.id(Long.toString(event.id()));
        }
        try {
            // Jersey writes synchronously and reports an I/O failure as the stage's value, others complete the
            // stage exceptionally: both mean the client is gone
            return !(sink.send(builder.build()).toCompletableFuture().join() instanceof Throwable);
        } catch (CompletionException | IllegalStateException e) {
            return false;
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "an SSE write failed", e);
            return false;
        }
    }

    @Override
    public boolean isClosed() {
        return sink.isClosed();
    }

    @Override
    public void close() {
        sink.close();
    }
}
