package io.sluice.streams.boundary;

import io.sluice.streams.control.EventSink;
import io.sluice.streams.control.StreamEvent;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@code /api} event stream: an {@link EventSink} over the JAX-RS {@link SseEventSink} that a resource method
 * gets. Every workaround the containers need in the SSE path lives in this class, and for {@code /v1} in
 * {@code io.sluice.openai.boundary.ServletEventSink}, which uses its {@link ResponseLock}; the stream engine sees only
 * {@link EventSink}. Each was found in issue 14, on Payara, WildFly or Tomcat; the evidence is in
 * {@code server-config/tomcat/README.md} and {@code server-config/wildfly/README.md}, the map in the README
 * ("Container workarounds"):
 *
 * <ol>
 *   <li><b>No write or close once the container has ended the response</b> ({@link ResponseLock}; Tomcat, and the
 *       {@code /v1} sink too). A container ends an asynchronous response on a thread of its own (after
 *       {@code AsyncContext.complete()}, or {@code onError} when a write failed or the client went away), and Tomcat
 *       then gives the same request and response objects to the next connection. Jersey registers no
 *       {@code AsyncListener} and goes on writing: Jersey issue 3719 ("JerseyEventSink continues to write to Response
 *       after the Container has completed the async context", open) and Tomcat bug 61768, whose only workaround is to
 *       turn off Tomcat's processor cache. Seen as resumed connections that stalled: a cut connection's failed write
 *       recorded its {@code IOException} in the response that a resumed connection was given meanwhile. So every write
 *       and the close run under one lock, and the container's {@code onError} and {@code onTimeout} take it before
 *       they return: the container finishes ending the response only once no write is inside it.</li>
 *   <li><b>Except on an XNIO I/O thread</b> ({@link ResponseLock#onIoThread}; WildFly's Undertow). Undertow calls
 *       {@code onError} for a client that reset its connection on an I/O thread of XNIO, which a writer blocked in a
 *       write may itself wait for: each reset held an I/O thread for the lock's wait, and with tabs cut again and
 *       again the server stood still ({@code StreamsIT} on WildFly; no upstream issue found). There the response is
 *       marked ended without waiting; Undertow makes a new exchange per request, so the write in progress cannot reach
 *       another one. The thread is recognized by its class, compared by name, as Sluice does not depend on XNIO.</li>
 *   <li><b>Nothing touches the sink before the request thread has left the dispatch</b> ({@link DispatchFilter},
 *       {@link #whenOpen}, {@link #close}; Tomcat). After a resource method with an {@code SseEventSink} returns,
 *       Jersey flushes the sink on the request thread to send the headers ({@code JerseyEventSink.flush} from
 *       {@code JavaResourceMethodDispatcherProvider.SseEventSinkInvoker}), and its {@code ChunkedOutput.flushQueue} is
 *       not safe against a write or close from another thread meanwhile (races in the same method: Jersey issues 4493,
 *       a close outside its lock, fixed by pull request 4571, and 5439, open). A follower of an ended stream, which
 *       wrote every event and closed within that window, made the flush fail with "Response is closed", and the
 *       client got the headers and then the end of the connection (Tomcat, {@code StreamsIT}). So the filter
 *       brackets every {@code /api} dispatch, and this sink opens, and closes, only at its end; the headers still leave
 *       at once, with Jersey's flush. Jersey issue 2964 (the context set too late) describes the window; waiting for
 *       Jersey's context alone did not fix it.</li>
 *   <li><b>The dispatch is found in the constructor</b> (WildFly's RESTEasy). RESTEasy forgets the request's context
 *       data on the request thread when a sink is closed on it (the guard closing the tab's previous connection), and
 *       the injected {@code HttpServletRequest} then throws {@code RESTEASY003880}. Made in the resource method before
 *       the connection is opened, the sink has read the request before anything can close a sink there.</li>
 * </ol>
 */
public final class ApiEventSink implements EventSink {

    private static final Logger LOG = Logger.getLogger(ApiEventSink.class.getName());

    private final SseEventSink sink;
    private final Sse sse;
    private final ResponseLock lock;
    private final Dispatch dispatch;

    /**
     * Make it in the resource method, before the connection is opened (workaround 4).
     *
     * @param request the servlet request of the resource method that got {@code sink}, or {@code null} where there is
     *                none (the sink then opens at once); its asynchronous context, when the JAX-RS implementation has
     *                started one, tells the sink when the container ends the response
     */
    public ApiEventSink(SseEventSink sink, Sse sse, ServletRequest request) {
        this.sink = sink;
        this.sse = sse;
        this.dispatch = Dispatch.of(request);
        this.lock = new ResponseLock(sink::close);
        lock.watch(request);
    }

    /** Runs {@code start} once the request's dispatch has ended (workaround 3), or at once outside a dispatch. */
    @Override
    public void whenOpen(Runnable start) {
        Dispatch.after(dispatch, start);
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

    /** Closes the sink, at the end of the request's dispatch when that is still in progress (workaround 3). */
    @Override
    public void close() {
        Dispatch.after(dispatch, lock::close);
    }

    /**
     * Keeps a sink's writes and its close off an asynchronous servlet response that the container has ended
     * (workarounds 1 and 2 of {@link ApiEventSink}): every write and the close run under this lock ({@link #write},
     * {@link #close}), and the container's {@code onError} and {@code onTimeout} take it before they return (at most
     * {@value #END_WAIT_MS} ms; not at all on an XNIO I/O thread); from then on {@link #write} refuses and
     * {@link #close} does nothing. {@code onComplete} marks the end without waiting: it follows a {@code complete()},
     * which only a write or close under this lock or the container itself calls, and Tomcat calls it holding a monitor
     * that a writer inside {@code complete()} needs. Where the container had not started the asynchronous response
     * when the sink was made ({@link #watch} returns {@code false}), the lock still orders writes and close.
     */
    public static final class ResponseLock implements AsyncListener {

        /** Longest wait of the container's {@code onError} or {@code onTimeout} for a write in progress, in ms. */
        static final long END_WAIT_MS = 10_000;

        private final ReentrantLock lock = new ReentrantLock();
        private final Runnable closer;
        private volatile boolean ended;
        private volatile boolean closeAsked;
        private volatile boolean closeDone;

        /**
         * @param closer ends the response (the sink's own close); run at most once, under the lock, never after the
         *               end
         */
        public ResponseLock(Runnable closer) {
            this.closer = closer;
        }

        /**
         * Listens to the request's asynchronous context, when the container has started one.
         *
         * @return whether the lock now hears of the container's end of the response
         */
        public boolean watch(ServletRequest request) {
            if (request == null) {
                return false;
            }
            try {
                if (!request.isAsyncStarted()) {
                    return false;
                }
                request.getAsyncContext().addListener(this);
                return true;
            } catch (IllegalStateException e) {
                LOG.log(Level.FINE, "the response's end cannot be watched", e);
                return false;
            }
        }

        /** Listens to {@code async}'s end; call it before the first write. */
        public void watch(AsyncContext async) {
            async.addListener(this);
        }

        /**
         * Runs one write under the lock, unless the response was closed or ended.
         *
         * @param write writes and flushes; returns whether it succeeded
         * @return {@code write}'s result, or {@code false} without running it
         */
        public boolean write(BooleanSupplier write) {
            lock.lock();
            try {
                if (ended || closeDone) {
                    return false;
                }
                return write.getAsBoolean();
            } finally {
                lock.unlock();
                closeIfAsked();
            }
        }

        /**
         * Closes the response: at once when no write is in progress, else right after that write, by its thread (a
         * write blocked on a client that reads nothing is not waited for). Idempotent; nothing once the container
         * ended it.
         */
        public void close() {
            closeAsked = true;
            closeIfAsked();
        }

        private void closeIfAsked() {
            if (lock.isHeldByCurrentThread()) {
                return; // asked from inside a write: that write's end closes
            }
            // whoever lets go of the lock last sees closeAsked: a close asked during a write is never lost
            while (closeAsked && !closeDone && lock.tryLock()) {
                try {
                    if (!closeDone) {
                        closeDone = true;
                        if (!ended) {
                            closer.run();
                        }
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "closing a response", e);
                } finally {
                    lock.unlock();
                }
            }
        }

        /** Whether the sink was asked to close or the container ended the response: no more writes. */
        public boolean isClosed() {
            return closeAsked || ended;
        }

        /** Whether the container ended the response (complete, error or timeout). */
        public boolean ended() {
            return ended;
        }

        @Override
        public void onComplete(AsyncEvent event) {
            ended = true;
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            endAfterWrite();
        }

        @Override
        public void onError(AsyncEvent event) {
            endAfterWrite();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // the response is never dispatched again
        }

        /** Whether the calling thread is an I/O thread of XNIO: its class extends {@code org.xnio.XnioIoThread}. */
        static boolean onIoThread() {
            for (Class<?> type = Thread.currentThread().getClass(); type != null; type = type.getSuperclass()) {
                if (type.getName().equals("org.xnio.XnioIoThread")) {
                    return true;
                }
            }
            return false;
        }

        /** The container is ending the response: waits for a write in progress, so that none outlives the response. */
        private void endAfterWrite() {
            boolean locked = lock.tryLock();
            try {
                if (!locked && !onIoThread()) {
                    locked = lock.tryLock(END_WAIT_MS, TimeUnit.MILLISECONDS);
                    if (!locked) {
                        LOG.warning(() -> "a write was still in the response " + END_WAIT_MS
                                + " ms after the container began to end it");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ended = true;
                if (locked) {
                    lock.unlock();
                }
            }
        }
    }

    /**
     * Brackets every {@code /api} dispatch (workaround 3 of {@link ApiEventSink}): a sink made in it opens once the
     * container thread has left the JAX-RS implementation, whether the chain returned or threw.
     */
    @WebFilter(urlPatterns = "/api/*", asyncSupported = true)
    public static class DispatchFilter extends HttpFilter {

        @Override
        protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws IOException, ServletException {
            Dispatch.open(request);
            try {
                chain.doFilter(request, response);
            } finally {
                Dispatch.close(request);
            }
        }
    }

    /**
     * A request's dispatch in progress, kept as a request attribute between {@link #open} and {@link #close}: the
     * tasks that wait for its end.
     */
    static final class Dispatch {

        /** Request attribute holding the dispatch in progress. */
        static final String ATTRIBUTE = Dispatch.class.getName();

        private final List<Runnable> tasks = new ArrayList<>(1);
        private boolean ended;

        /** Marks the start of the request's dispatch, on the container thread, before the chain runs. */
        static void open(ServletRequest request) {
            request.setAttribute(ATTRIBUTE, new Dispatch());
        }

        /**
         * Marks the end of the request's dispatch and runs its tasks, in order, on the calling (container) thread. A
         * task that throws is logged and the others still run.
         */
        static void close(ServletRequest request) {
            Object value = request.getAttribute(ATTRIBUTE);
            request.removeAttribute(ATTRIBUTE);
            if (!(value instanceof Dispatch dispatch)) {
                return;
            }
            for (Runnable task : dispatch.end()) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a task waiting for the end of a dispatch failed", e);
                }
            }
        }

        /** The dispatch of {@code request} in progress; {@code null} without a request or outside the filter. */
        static Dispatch of(ServletRequest request) {
            return request != null && request.getAttribute(ATTRIBUTE) instanceof Dispatch dispatch ? dispatch : null;
        }

        /** Runs {@code task} when {@code dispatch} ends, or now when it is {@code null} or already ended. */
        static void after(Dispatch dispatch, Runnable task) {
            if (dispatch == null || !dispatch.add(task)) {
                task.run();
            }
        }

        private synchronized boolean add(Runnable task) {
            if (ended) {
                return false;
            }
            tasks.add(task);
            return true;
        }

        private synchronized List<Runnable> end() {
            ended = true;
            return List.copyOf(tasks);
        }
    }
}
