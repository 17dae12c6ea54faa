package io.sluice.streams.boundary;

import io.sluice.streams.control.DispatchEnd;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.WebFilter;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Brackets every {@code /api} dispatch with {@link DispatchEnd}: an SSE connection opened by a resource method starts
 * writing once the container thread has left the JAX-RS implementation, whether the chain returned or threw.
 */
@WebFilter(urlPatterns = "/api/*", asyncSupported = true)
public class DispatchEndFilter extends HttpFilter {

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        DispatchEnd.open(request);
        try {
            chain.doFilter(request, response);
        } finally {
            DispatchEnd.close(request);
        }
    }
}
