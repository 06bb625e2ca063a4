/**
 * The otelcol-contrib release the shipped collector configurations are pinned to, and the
 * component types of that release they may use (only those the configurations need, so each one
 * below is checked against a source).
 *
 * Sources, looked up with the project's search tool on 2026-12-07:
 * - The distribution manifest, open-telemetry/opentelemetry-collector-releases
 *   distributions/otelcol-contrib/manifest.yaml: the index holds it only up to v0.136.0 (commit
 *   008cde8ca78cc0286ee3f0de92fa95e1641a445a). There every module below is in the distribution:
 *   otlpreceiver, batchprocessor, memorylimiterprocessor, filterprocessor, otlpexporter,
 *   otlphttpexporter, loadbalancingexporter, debugexporter, healthcheckextension,
 *   headerssetterextension. The v0.156.0 manifest itself is NOT in the index.
 * - That the same modules exist at v0.156.0: the go.mod of DataDog/datadog-agent requires
 *   otlpreceiver, batchprocessor, memorylimiterprocessor, otlpexporter, otlphttpexporter,
 *   debugexporter (collector core) and filterprocessor, loadbalancingexporter,
 *   healthcheckextension (contrib) at v0.156.0; headerssetterextension is required at v0.150.0
 *   and v0.157.0 by other go.mod files (contrib tags every module at every release).
 * - Type renames after v0.136.0 (old names stay as deprecated aliases and are deliberately left
 *   out here, so the configurations use the current names): open-telemetry/opentelemetry-collector
 *   #14396, `otlp` exporter -> `otlp_grpc` (PR #14403) and `otlphttp` -> `otlp_http` (PR #14397),
 *   released in v0.144.0; open-telemetry/opentelemetry-collector-contrib PR #48533 (merged
 *   2026-05-19), `loadbalancing` -> `load_balancing`, released in v0.153.0. The other types used
 *   (`otlp` receiver, `batch`, `memory_limiter`, `filter`, `debug`, `health_check`,
 *   `headers_setter`) already follow the lower_snake_case convention (#14396 lists the core ones
 *   as needing no rename).
 */
export const PINNED_COLLECTOR = '0.156.0';

export const CONTRIB_COMPONENTS = {
  receivers: ['otlp'],
  processors: ['batch', 'memory_limiter', 'filter'],
  exporters: ['otlp_grpc', 'otlp_http', 'load_balancing', 'debug'],
  extensions: ['health_check', 'headers_setter'],
} as const;
