package io.sluice.streams.control;

import jakarta.servlet.ServletRequest;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An {@link EventSink} over a JAX-RS {@link SseEventSink}: the {@code /api} SSE endpoints. Its writes and its close go
 * through a {@link ResponseLock} that listens to the servlet request's asynchronous context, so that none reaches the
 * response once the container has ended it (on Tomcat, the request and response objects then serve another
 * connection).
 */
public final class JaxRsEventSink implements EventSink {

    private static final Logger LOG = Logger.getLogger(JaxRsEventSink.class.getName());

    private final SseEventSink sink;
    private final Sse sse;
    private final ResponseLock lock;

    /**
     * @param request the servlet request of the resource method that got {@code sink}, or {@code null} where there is
     *                none; its asynchronous context, when the JAX-RS implementation has started one, tells the sink
     *                when the container ends the response
     */
    public JaxRsEventSink(SseEventSink sink, Sse sse, ServletRequest request) {
        this.sink = sink;
        this.sse = sse;
        this.lock = new ResponseLock(sink::close);
        lock.watch(request);
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
        OutboundSseEvent frame = builder.build();
        return lock.write(() -> write(frame));
    }

    private boolean write(OutboundSseEvent frame) {
        try {
            // Jersey writes synchronously and reports an I/O failure as the stage's value, others complete the
            // stage exceptionally: both mean the client is gone
            return !(sink.send(frame).toCompletableFuture().join() instanceof Throwable);
        } catch (CompletionException | IllegalStateException e) {
            return false;
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "an SSE write failed", e);
            return false;
        }
    }

    @Override
    public boolean isClosed() {
        return lock.isClosed() || sink.isClosed();
    }

    @Override
    public void close() {
        lock.close();
    }
}
