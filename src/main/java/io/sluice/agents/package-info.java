/**
 * Multi-agent runs over WebSocket (API.md section 5): {@code /ws/agents} starts a run of several agents, each a stream
 * of type {@code agent} ({@code io.sluice.streams}), scheduled by their dependencies, and multiplexes their output on
 * one socket as typed frames; a session resumes a run from its frames' offsets.
 *
 * <p>Main classes: {@code boundary.AgentsEndpoint} ({@code /ws/agents}, with {@code OwnerConfigurator} for identity
 * at the handshake) and {@code AgentsResource} ({@code /api/agents}); {@code control.AgentRun} (a run: it follows its
 * agents' logs and keeps its own log of {@code AgentFrame}s), {@code AgentSchedule} (dependency order),
 * {@code AgentRuns} (registry, caps, saving the agents' messages through {@code chat}'s {@code Answers}),
 * {@code AgentSession} (one socket's cursors and sends), {@code RunFrames} and {@code RunMirror} (a run generated on
 * another node, its typed frames read from Redis through {@code FrameCodec}), {@code LostRuns} (a lost node's runs, through {@code streams}' {@code LostLogs}),
 * {@code Roster}, {@code AgentPrompts}, {@code AgentStore}; the {@code entity.RunRecord}.
 *
 * <p>May import: {@code chat}, {@code openai}, {@code warmup}, {@code streams}, {@code conversations},
 * {@code providers}, {@code identity}, {@code problems} and {@code platform} (README, "Components and what each may
 * import"); only {@code operations} is above it.
 */
package io.sluice.agents;
