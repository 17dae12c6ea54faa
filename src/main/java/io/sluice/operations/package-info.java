/**
 * What an operations team needs to run Sluice in an intranet (API.md sections 11 and 12): Prometheus metrics
 * ({@code control.StreamMetrics}, served at {@code /metrics} by {@code boundary.MetricsServlet}), MicroProfile Health
 * checks ({@code boundary.ReadinessChecks}: {@code /health/live}, {@code /health/ready}), the data of the live
 * dashboard ({@code boundary.MetricsResource}: {@code GET /api/metrics}), and the daily retention job that deletes
 * conversations untouched for {@code SLUICE_RETENTION_DAYS} ({@code control.Retention} and {@code RetentionSweep},
 * API.md section 13). The OpenAPI description ({@code /openapi}) is served by the server from the resources'
 * annotations and {@code META-INF/openapi.yaml}; the alerting rules that go with the metrics are in
 * {@code server-config/prometheus/}.
 *
 * <p>The metrics learn what happens without the streaming code knowing them: {@code StreamMetrics} implements
 * {@code io.sluice.streams.control.StreamObserver}, and observes the warm-up's {@code WarmupEnded} event. The top
 * component: it may import every other (README, "Components and what each may import"), and none imports it.
 */
package io.sluice.operations;
