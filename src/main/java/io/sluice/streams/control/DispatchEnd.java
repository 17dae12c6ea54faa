package io.sluice.streams.control;

import jakarta.servlet.ServletRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs tasks once the container thread has left the request's dispatch: what an SSE connection must not do while the
 * JAX-RS implementation still works on its sink from that thread.
 *
 * <p>Why: after an {@code SseEventSink} resource method returns, Jersey flushes the sink on the request thread (to send
 * the response headers). That flush may be the one that resumes the response, and Jersey's {@code ChunkedOutput} is not
 * safe against a write or a close from another thread meanwhile: a follower of an ended stream, whose writer thread
 * wrote every event and closed the sink within that window, made the request thread fail with "Response is closed";
 * the container then dropped the connection after the headers, or after the first events, and the client never saw the
 * terminal event (Tomcat, issue 14: one run in several of the core suites, and reliably under load). So the first write
 * of an SSE connection waits for the end of the dispatch ({@link #after}); the headers still leave at once, with
 * Jersey's flush.
 *
 * <p>{@link #open} and {@link #close} bracket the dispatch (the {@code /api} filter); {@link #of} finds it from the
 * resource method, and {@link #after} runs a task at its end, or at once for a request without that bracket or whose
 * dispatch already ended.
 */
public final class DispatchEnd {

    private static final Logger LOG = Logger.getLogger(DispatchEnd.class.getName());
    /** Request attribute holding the tasks of a dispatch in progress. */
    static final String ATTRIBUTE = DispatchEnd.class.getName();

    private final List<Runnable> tasks = new ArrayList<>(1);
    private boolean ended;

    private DispatchEnd() {
    }

    /** Marks the start of the request's dispatch, on the container thread, before the chain runs. */
    public static void open(ServletRequest request) {
        request.setAttribute(ATTRIBUTE, new DispatchEnd());
    }

    /**
     * Marks the end of the request's dispatch and runs its tasks, in order, on the calling (container) thread. A task
     * that throws is logged and the others still run.
     */
    public static void close(ServletRequest request) {
        Object value = request.getAttribute(ATTRIBUTE);
        request.removeAttribute(ATTRIBUTE);
        if (!(value instanceof DispatchEnd end)) {
            return;
        }
        for (Runnable task : end.end()) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a task waiting for the end of a dispatch failed", e);
            }
        }
    }

    /**
     * The dispatch of {@code request} in progress, or {@code null} ({@code request} is {@code null} or unbracketed).
     * Read it on the request thread before anything may close a sink there: RESTEasy forgets the request's context
     * data on that thread when a sink is closed on it (as when the guard replaces another connection of the same tab),
     * and the request proxy then throws.
     */
    public static DispatchEnd of(ServletRequest request) {
        return request != null && request.getAttribute(ATTRIBUTE) instanceof DispatchEnd end ? end : null;
    }

    /** Runs {@code task} when {@code dispatch} ends, or now when it is {@code null} or already ended. */
    public static void after(DispatchEnd dispatch, Runnable task) {
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
