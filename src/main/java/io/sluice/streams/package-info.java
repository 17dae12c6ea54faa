/**
 * The stream engine (API.md sections 2, 3 and 13; issues 10, 11, 20): a generation appends typed entries to its
 * stream's log, and every reader (an SSE connection, a WebSocket session, a poll) follows that log with a cursor of its
 * own, from any position, on this node or, through Redis, on another.
 *
 * <p>Main classes: {@code control.Stream} (one generation: the {@code GenerationListener} a provider tells, writing
 * {@code StreamEntry}s through {@code DeltaCoalescer} into an {@code EventLog}, {@code MemoryEventLog} or the
 * cluster's {@code ReplicatedEventLog}), {@code StreamHub} (admission, start, saving, retention, shutdown),
 * {@code Pump} (the one drainer loop), {@code SseConnection} with {@code Followers} and {@code ConnectionGuard} (SSE
 * followers, their delivery and their reaping), {@code SseEdge}/{@code SseEvents} (entries rendered at the edge),
 * {@code StreamCluster}, {@code NodeLeases} and {@code Takeovers} (the cluster), {@code Reason} and
 * {@code StreamType}; {@code boundary.StreamsResource} ({@code /api/streams}) and {@code boundary.ApiEventSink} (the
 * {@code /api} SSE sink, where every container workaround of the SSE path lives); the {@code entity.StreamRecord}.
 *
 * <p>The seams to the components above it, each an interface defined here and implemented there:
 * {@code StreamStarter} (who starts the streams of {@code POST /api/streams}: {@code io.sluice.chat}),
 * {@code StreamObserver} (who measures streams and connections: {@code io.sluice.operations}) and {@code LostLogs}
 * (the agent runs a lost node left open: {@code io.sluice.agents}).
 *
 * <p>May import: {@code conversations}, {@code providers}, {@code identity}, {@code problems} and {@code platform}
 * (README, "Components and what each may import"); never {@code chat}, {@code agents}, {@code openai},
 * {@code operations} or {@code warmup}.
 */
package io.sluice.streams;
