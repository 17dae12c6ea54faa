package io.sluice.streams.control;

/**
 * One event of a stream as it is sent: SSE {@code id} (1, 2, ... within the stream; 0 for {@code ping},
 * which has none), event name and one-line JSON data (API.md section 2).
 */
public record StreamEvent(long id, String name, String data) {
}
