/**
 * What every component stands on: JAX-RS activation under {@code /api}, run-time configuration
 * ({@code SluiceConfig}), the data source and Flyway migrations, the managed thread pools, JSON request
 * bodies with limits, the SSE response headers, and {@code ProblemException}, the client error that every component
 * throws ({@code io.sluice.problems} renders it). The lowest component: it imports no other.
 */
package io.sluice.platform;
