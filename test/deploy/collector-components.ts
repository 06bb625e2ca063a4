/**
 * The otelcol-contrib release the shipped collector configurations are pinned to, and the
 * component types of that release they may use. Sources: the distribution manifest of
 * opentelemetry-collector-releases (distributions/otelcol-contrib/manifest.yaml) for the
 * component set; the type renames since v0.136.0 from the collector's changelogs: the OTLP gRPC
 * exporter `otlp` -> `otlp_grpc` and `otlphttp` -> `otlp_http` (v0.144.0, old names kept as
 * deprecated aliases), the load-balancing exporter `loadbalancing` -> `load_balancing` (v0.153.0).
 * Deprecated aliases are deliberately left out, so the configurations use the current names.
 */
export const PINNED_COLLECTOR = '0.156.0';

export const CONTRIB_COMPONENTS = {
  receivers: ['otlp'],
  processors: ['batch', 'memory_limiter', 'filter', 'transform', 'attributes', 'resource'],
  exporters: ['otlp_grpc', 'otlp_http', 'load_balancing', 'debug'],
  extensions: ['health_check', 'headers_setter', 'bearertokenauth'],
} as const;
