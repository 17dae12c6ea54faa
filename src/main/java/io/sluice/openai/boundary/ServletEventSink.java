package io.sluice.openai.boundary;

import io.sluice.openai.control.EarlyAnswer;
import io.sluice.openai.control.OpenAiError;
import io.sluice.streams.control.EventSink;
import io.sluice.streams.control.StreamEvent;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code /v1} event stream over an asynchronous servlet response: the status line and headers are written with
 * the first frame ({@code 200}, {@code text/event-stream}, {@code Cache-Control: no-cache},
 * {@code X-Accel-Buffering: no}, {@code X-Sluice-Stream-Id}), so that until then the response can still become an
 * HTTP error ({@link EarlyAnswer}). Frames are written in SSE syntax (WHATWG HTML, "event stream interpretation"):
 * {@code data: …} lines and a blank line, or a comment line {@code : …}. Writes block (the servlet stream's blocking
 * mode) on the writers' executor, like every SSE write; a client that is gone makes them fail.
 */
final class ServletEventSink implements EventSink, EarlyAnswer {

    private static final Logger LOG = Logger.getLogger(ServletEventSink.class.getName());

    private final AsyncContext async;
    private final HttpServletResponse response;
    private final String streamId;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean committed;

    ServletEventSink(AsyncContext async, HttpServletResponse response, String streamId) {
        this.async = async;
        this.response = response;
        this.streamId = streamId;
    }

    @Override
    public boolean send(StreamEvent event) {
        if (closed.get()) {
            return false;
        }
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
        if (committed || closed.get()) {
            return false;
        }
        committed = true;
        try {
            OpenAiServlet.write(response, error, streamId);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "stream " + streamId + ": a /v1 error answer failed", e);
        }
        return true;
    }

    @Override
    public boolean isClosed() {
        return closed.get();
    }

    /** Called when the container reports the response's end or failure: writes will not be tried any more. */
    void gone() {
        closed.set(true);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                async.complete();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "stream " + streamId + ": completing a /v1 response", e);
            }
        }
    }
}
