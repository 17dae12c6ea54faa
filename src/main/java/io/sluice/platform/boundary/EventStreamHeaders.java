package io.sluice.platform.boundary;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;

/**
 * Adds the headers of API.md section 2 to every {@code text/event-stream} response:
 * {@code Cache-Control: no-cache} and {@code X-Accel-Buffering: no} (so that nginx-style proxies do not
 * buffer events).
 */
@Provider
public class EventStreamHeaders implements ContainerResponseFilter {

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        MediaType type = response.getMediaType();
        if (type != null && MediaType.SERVER_SENT_EVENTS_TYPE.isCompatible(type)) {
            response.getHeaders().putSingle("Cache-Control", "no-cache");
            response.getHeaders().putSingle("X-Accel-Buffering", "no");
        }
    }
}
