/**
 * The stream engine (API.md sections 2, 3 and 13; issues 10, 11, 20): a generation appends typed entries to its
 * stream's log, and every reader (an SSE connection, a WebSocket session, a poll) follows that log with a cursor of its
 * own, from any position, on this node or, through Redis, on another.
 *
 * <p>Main classes: {@code control.Stream} (a stream as its readers see it), of two kinds: {@code LocalStream} (one
 * generation here: the {@code GenerationListener} a provider tells, writing {@code StreamEntry}s through
 * {@code DeltaCoalescer} into an {@code EventLog}) and {@code FollowedStream} (one that another node generates, its
 * log filled from the transport, its stop sent there); {@code StreamHub} (admission, start,
 * saving, retention, shutdown), {@code Pump} (the one drainer loop), {@code SseConnection} with {@code Followers} and
 * {@code ConnectionGuard} (SSE followers, their delivery and their reaping), {@code SseEdge}/{@code SseEvents}
 * (entries rendered at the edge), {@code StreamTransport} and its parts (below), {@code NodeLeases} and
 * {@code Takeovers} (a lost node's streams), {@code OwnerQuota} (the per-user caps), {@code Reason} and
 * {@code StreamType}; {@code boundary.StreamsResource} ({@code /api/streams}) and {@code boundary.ApiEventSink} (the
 * {@code /api} SSE sink, where every container workaround of the SSE path lives); the {@code entity.StreamRecord}.
 *
 * <p><b>A newcomer's map of the seam.</b> Where a log lives is decided once, at start, by {@code Transports} from
 * {@code SLUICE_REDIS_URL}, and the rest of the engine only ever talks to the {@code StreamTransport} it produces.
 * {@code LocalTransport} (no URL) keeps every log in memory ({@code MemoryEventLog}) and has no other node to find,
 * list or tell anything. {@code RedisTransport} (a {@code redis://} URL) is the cluster, built of one-job parts: the
 * keys and channels ({@code StreamCluster}); the writer that copies a log generated here to Redis as it grows
 * ({@code LogPublisher} behind a {@code ReplicatedEventLog}, each entry written by a {@code LogCodec}:
 * {@code EntryCodec} for a stream, the agents' {@code FrameCodec} for a run); the registry of other nodes' logs
 * followed here ({@code Mirrors}: each a {@code LogCopy}, a {@code FollowedStream} or a run's frames); the
 * summaries of other nodes' running streams ({@code RemoteSummaries}); the typed messages between nodes
 * ({@code Control}: stop, unload, attend, a run's stop, one codec) on the {@code ControlBus}; the reports of who
 * follows what ({@code Attention}) and the drop of copies nobody follows ({@code IdleSweep}). To change how streams
 * travel between nodes, change a transport; to add a message between nodes, add a {@code Control} record.
 *
 * <p>The seams to the components above it, each an interface defined here and implemented there:
 * {@code StreamStarter} (who starts the streams of {@code POST /api/streams}: {@code io.sluice.chat}),
 * {@code StreamObserver} (who measures streams and connections: {@code io.sluice.operations}) and {@code LostLogs}
 * (the agent runs a lost node left open: {@code io.sluice.agents}). Below it, the transport implements
 * {@code platform}'s {@code SharedRecords} (whether a start-up may close every open record).
 *
 * <p>May import: {@code conversations}, {@code providers}, {@code identity}, {@code problems} and {@code platform}
 * (README, "Components and what each may import"); never {@code chat}, {@code agents}, {@code openai},
 * {@code operations} or {@code warmup}.
 */
package io.sluice.streams;
