package io.sluice.openai.boundary;

import io.sluice.openai.control.EarlyAnswer;
import io.sluice.openai.control.OpenAiError;
import io.sluice.streams.boundary.ApiEventSink.ResponseLock;
import io.sluice.streams.control.EventSink;
import io.sluice.streams.control.StreamEvent;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code /v1} event stream over an asynchronous servlet response: the status line and headers are written with
 * the first frame ({@code 200}, {@code text/event-stream}, {@code Cache-Control: no-cache},
 * {@code X-Accel-Buffering: no}, {@code X-Sluice-Stream-Id}), so that until then the response can still become an
 * HTTP error ({@link EarlyAnswer}). Frames are written in SSE syntax (WHATWG HTML, "event stream interpretation"):
 * {@code data: …} lines and a blank line, or a comment line {@code : …}. Writes block (the servlet stream's blocking
 * mode) on the writers' executor, like every SSE write; a client that is gone makes them fail. Writes, a whole answer
 * instead of the stream (an error, or a non-streamed completion) and the close go through a {@link ResponseLock} on the
 * request's {@link AsyncContext}, so that none reaches the response once the container has ended it: Tomcat hands an
 * ended response's objects to the next connection (workaround 1 of {@code ApiEventSink}, which documents it, with
 * Tomcat bug 61768). The {@code /v1} servlet is not JAX-RS, so {@code /api}'s other workarounds do not apply here.
 */
final class ServletEventSink implements EventSink, EarlyAnswer {

    private static final Logger LOG = Logger.getLogger(ServletEventSink.class.getName());

    private final AsyncContext async;
    private final HttpServletResponse response;
    private final String streamId;
    private final ResponseLock lock = new ResponseLock(this::complete);
    private volatile boolean committed;

    /** Listens to {@code async}'s end at once, before any write: once the container ended it, nothing is written. */
    ServletEventSink(AsyncContext async, HttpServletResponse response, String streamId) {
        this.async = async;
        this.response = response;
        this.streamId = streamId;
        lock.watch(async);
    }

    @Override
    public boolean send(StreamEvent event) {
        return lock.write(() -> write(event));
    }

    private boolean write(StreamEvent event) {
        try {
            if (!committed) {
                committed = true;
                response.setStatus(200);
                response.setContentType("text/event-stream");
                response.setCharacterEncoding("UTF-8");
                response.setHeader("Cache-Control", "no-cache");
                response.setHeader("X-Accel-Buffering", "no");
                response.setHeader(OpenAiServlet.STREAM_ID_HEADER, streamId);
            }
            var out = response.getOutputStream();
            out.write(frame(event));
            out.flush();
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "stream " + streamId + ": a /v1 write failed", e);
            return false;
        }
    }

    /** One frame in SSE syntax; a data value with line breaks becomes several {@code data:} lines. */
    static byte[] frame(StreamEvent event) {
        StringBuilder text = new StringBuilder(event.data().length() + 16);
        if (event.comment()) {
            text.append(": ").append(event.data()).append("\n\n");
            return text.toString().getBytes(StandardCharsets.UTF_8);
        }
        if (event.id() > 0) {
            text.append("id: ").append(event.id()).append('\n');
        }
        if (event.name() != null) {
            text.append("event: ").append(event.name()).append('\n');
        }
        for (String line : event.data().split("\r\n|\r|\n", -1)) {
            text.append("data: ").append(line).append('\n');
        }
        return text.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean answer(OpenAiError error) {
        return answer(r -> OpenAiServlet.write(r, error, streamId));
    }

    /**
     * Writes a whole answer instead of an event stream, if nothing was written yet and the response is still open.
     *
     * @param answer writes the status, headers and body
     * @return whether it ran
     */
    boolean answer(WholeAnswer answer) {
        if (committed || lock.isClosed()) {
            return false;
        }
        committed = true;
        lock.write(() -> {
            try {
                answer.writeTo(response);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.FINE, "stream " + streamId + ": a /v1 answer failed", e);
            }
            return true;
        });
        return true;
    }

    /** A whole answer, written to the response once. */
    @FunctionalInterface
    interface WholeAnswer {
        void writeTo(HttpServletResponse response) throws IOException;
    }

    @Override
    public boolean isClosed() {
        return lock.isClosed();
    }

    @Override
    public void close() {
        lock.close();
    }

    private void complete() {
        try {
            async.complete();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "stream " + streamId + ": completing a /v1 response", e);
        }
    }
}
