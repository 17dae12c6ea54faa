package io.sluice.streams.boundary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.streams.boundary.ApiEventSink.Dispatch;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.SseEventSink;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/**
 * The end of a request's dispatch without a container: an {@code /api} sink made inside a bracketed dispatch opens and
 * closes only at its end, one made outside at once.
 */
class ApiEventSinkTest {

    /** A request with attributes only (all that the sink's dispatch uses), and no asynchronous context. */
    private static HttpServletRequest request() {
        Map<String, Object> attributes = new HashMap<>();
        return (HttpServletRequest) Proxy.newProxyInstance(ApiEventSinkTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getAttribute" -> attributes.get((String) args[0]);
                    case "setAttribute" -> attributes.put((String) args[0], args[1]);
                    case "removeAttribute" -> attributes.remove((String) args[0]);
                    case "isAsyncStarted" -> false;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    /** A JAX-RS sink that only records its closes. */
    private static final class ClosingSink implements SseEventSink {
        final List<String> log;

        ClosingSink(List<String> log) {
            this.log = log;
        }

        @Override
        public boolean isClosed() {
            return log.contains("closed");
        }

        @Override
        public CompletionStage<?> send(OutboundSseEvent event) {
            throw new UnsupportedOperationException("no write in these tests");
        }

        @Override
        public void close() {
            log.add("closed");
        }
    }

    @Test
    void insideADispatchTheSinkOpensAndClosesAtItsEndOutsideAtOnce() {
        HttpServletRequest request = request();
        List<String> log = new ArrayList<>();
        Dispatch.open(request);
        ApiEventSink sink = new ApiEventSink(new ClosingSink(log), null, request);
        sink.whenOpen(() -> log.add("open"));
        sink.close();
        assertEquals(List.of(), log, "nothing before the end of the dispatch");
        Dispatch.close(request);
        assertEquals(List.of("open", "closed"), log);

        List<String> outside = new ArrayList<>();
        ApiEventSink late = new ApiEventSink(new ClosingSink(outside), null, request); // its dispatch has ended
        late.whenOpen(() -> outside.add("open"));
        late.close();
        late.close();
        assertEquals(List.of("open", "closed"), outside, "at once, and closed once");
        new ApiEventSink(new ClosingSink(outside), null, null).whenOpen(() -> outside.add("no request"));
        assertEquals("no request", outside.get(2));
    }

    @Test
    void tasksOfADispatchRunInOrderAtItsEndEvenWhenOneFails() {
        ServletRequest request = request();
        List<String> ran = new ArrayList<>();
        Dispatch.open(request);
        Dispatch dispatch = Dispatch.of(request);
        Dispatch.after(dispatch, () -> ran.add("first"));
        Dispatch.after(dispatch, () -> {
            throw new IllegalStateException("a failing task");
        });
        Dispatch.after(Dispatch.of(request), () -> ran.add("third"));
        assertEquals(List.of(), ran);
        Dispatch.close(request);
        assertEquals(List.of("first", "third"), ran);
        assertNull(Dispatch.of(request), "the bracket is gone");
        Dispatch.after(dispatch, () -> ran.add("after the end"));
        assertEquals(List.of("first", "third", "after the end"), ran, "a task for an ended dispatch runs at once");
        Dispatch.close(request); // a second end does nothing
        assertEquals(3, ran.size());
    }

    @Test
    void theFilterEndsTheDispatchWhenTheChainThrows() {
        HttpServletRequest request = request();
        HttpServletResponse response = (HttpServletResponse) Proxy.newProxyInstance(
                ApiEventSinkTest.class.getClassLoader(), new Class<?>[] {HttpServletResponse.class},
                (proxy, method, args) -> {
                    throw new UnsupportedOperationException(method.getName());
                });
        List<String> ran = new ArrayList<>();
        assertThrows(ServletException.class, () -> new ApiEventSink.DispatchFilter().doFilter(request, response,
                (req, res) -> {
                    new ApiEventSink(new ClosingSink(ran), null, (ServletRequest) req).whenOpen(() -> ran.add("open"));
                    assertEquals(List.of(), ran, "not inside the dispatch");
                    throw new ServletException("the resource failed");
                }));
        assertEquals(List.of("open"), ran);
        assertNull(Dispatch.of(request));
    }
}
