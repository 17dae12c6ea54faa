/**
 * The node's warm-up (issue 22): before {@code /health/ready} reports UP, a node that has just started drives its own
 * public API over loopback HTTP ({@code WarmupTraffic}) against an OpenAI-compatible upstream in this process
 * ({@code WarmupUpstream}), so that its first real streams meet compiled code, loaded classes and filled pools; then it
 * deletes what the warm-up wrote. {@code Warmup} holds the state the readiness check reports; {@code WarmupTrigger}
 * starts it where the loopback port is learned. {@code SLUICE_WARMUP}, {@code SLUICE_WARMUP_SECONDS} and
 * {@code SLUICE_WARMUP_STREAMS} configure it.
 */
package io.sluice.warmup;
