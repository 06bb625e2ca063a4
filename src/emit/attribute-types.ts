/**
 * The value type of every numeric attribute the sidecar puts on its spans, fixed by name.
 *
 * OpenTelemetry JS sends a JS number as an OTLP `int_value` when it happens to be integral and as
 * `double_value` otherwise, so a figure such as an observed p95 of 120 ms would switch type from
 * one span to the next and split a backend's column. Measured figures (observed and expected
 * values, numeric details, scores, shares, durations) are therefore always doubles; counts, ranks,
 * percentages and times in ms since the epoch are integers (the emitters round them).
 */
const DOUBLE_NAMES: readonly RegExp[] = [
  /^self_healing\.anomaly\.(observed|expected|details)\./,
  /^self_healing\.incident\.(observed|expected|details)\./,
  /\.score$/,
  /\.traffic_share$/,
  /^self_healing\.exemplar\.duration_ms$/,
];

/** Whether the attribute is declared a double (it must be sent as `double_value` even when integral). */
export function isDoubleAttribute(name: string): boolean {
  for (const re of DOUBLE_NAMES) if (re.test(name)) return true;
  return false;
}
