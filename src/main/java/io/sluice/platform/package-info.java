/**
 * What every component stands on: JAX-RS activation under {@code /api}, run-time configuration
 * ({@code SluiceConfig}), the data source and Flyway migrations, the managed thread pools, JSON request
 * bodies with limits, and the SSE response headers.
 */
package io.sluice.platform;
