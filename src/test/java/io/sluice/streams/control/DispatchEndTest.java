package io.sluice.streams.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import jakarta.servlet.ServletRequest;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tasks wait for the end of a bracketed dispatch, and run at once otherwise. */
class DispatchEndTest {

    /** A request with attributes only (all that DispatchEnd uses). */
    private static ServletRequest request() {
        Map<String, Object> attributes = new HashMap<>();
        return (ServletRequest) Proxy.newProxyInstance(DispatchEndTest.class.getClassLoader(),
                new Class<?>[] {ServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getAttribute" -> attributes.get((String) args[0]);
                    case "setAttribute" -> attributes.put((String) args[0], args[1]);
                    case "removeAttribute" -> attributes.remove((String) args[0]);
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void withoutADispatchInProgressATaskRunsAtOnce() {
        List<String> ran = new ArrayList<>();
        DispatchEnd.after(DispatchEnd.of(null), () -> ran.add("no request"));
        DispatchEnd.after(DispatchEnd.of(request()), () -> ran.add("unbracketed"));
        assertEquals(List.of("no request", "unbracketed"), ran);
    }

    @Test
    void duringADispatchTasksWaitForItsEndAndRunInOrderEvenWhenOneFails() {
        ServletRequest request = request();
        List<String> ran = new ArrayList<>();
        DispatchEnd.open(request);
        DispatchEnd dispatch = DispatchEnd.of(request);
        DispatchEnd.after(dispatch, () -> ran.add("first"));
        DispatchEnd.after(dispatch, () -> {
            throw new IllegalStateException("a failing task");
        });
        DispatchEnd.after(DispatchEnd.of(request), () -> ran.add("third"));
        assertEquals(List.of(), ran, "nothing runs before the end of the dispatch");
        DispatchEnd.close(request);
        assertEquals(List.of("first", "third"), ran);
        assertNull(DispatchEnd.of(request), "the bracket is gone");
        DispatchEnd.after(dispatch, () -> ran.add("after the end"));
        assertEquals(List.of("first", "third", "after the end"), ran, "a task for an ended dispatch runs at once");
        DispatchEnd.close(request); // a second end does nothing
        assertEquals(3, ran.size());
    }
}
