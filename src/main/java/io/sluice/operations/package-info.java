/**
 * What an operations team needs to run Sluice in an intranet (API.md sections 11 and 12): Prometheus metrics
 * ({@code control.StreamMetrics}, served at {@code /metrics}), MicroProfile Health checks ({@code /health/live},
 * {@code /health/ready}), the data of the live dashboard ({@code GET /api/metrics}) and the OpenAPI description of
 * the API ({@code /openapi}, served by the server from the resources' annotations), and the daily retention job that
 * deletes conversations untouched for {@code SLUICE_RETENTION_DAYS} ({@code control.Retention}, API.md section 13).
 * The alerting rules that go with the metrics are in {@code server-config/prometheus/}.
 */
package io.sluice.operations;
