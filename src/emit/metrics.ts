import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Beat } from '../model/beat.js';
import { VERSION } from '../version.js';
import type { RefusalReason } from '../receive/admission.js';

export type ReceiveProtocol = 'grpc' | 'http';

/** How one export request ended; a closed set so the label stays low-cardinality. */
export type RequestOutcome =
  | 'ok'
  | 'partial'
  | 'invalid'
  | 'too_large'
  | 'unauthenticated'
  | 'overloaded'
  | 'unsupported'
  | 'not_found'
  | 'error';

/** Why a request could not be decoded. */
export type DecodeErrorReason = 'malformed' | 'bad_gzip' | 'too_large' | 'unsupported_media_type';

export type ForwardResult = 'sent' | 'failed' | 'dropped' | 'retried';

type CounterChild = Counter.Internal;

/**
 * Typed handles on the sidecar's Prometheus metrics. Label children are resolved once and cached,
 * so the per-request cost is a map lookup and an add, not a label-set hash.
 */
export interface SidecarMetrics {
  readonly registry: Registry;
  spansReceived(protocol: ReceiveProtocol): CounterChild;
  spansRejected(protocol: ReceiveProtocol): CounterChild;
  logRecordsReceived(protocol: ReceiveProtocol): CounterChild;
  logRecordsRejected(protocol: ReceiveProtocol): CounterChild;
  requests(protocol: ReceiveProtocol, outcome: RequestOutcome): CounterChild;
  decodeErrors(protocol: ReceiveProtocol, reason: DecodeErrorReason): CounterChild;
  /** Requests refused for overload, by what was over its limit. */
  refusals(protocol: ReceiveProtocol, reason: RefusalReason): CounterChild;
  /** Adds each beat to its service's counter. */
  countBeats(beats: readonly Beat[]): void;
  readonly inflightSpans: Gauge;
  /** Request body bytes held (being read or processed). */
  readonly bodyBytes: Gauge;
  readonly forwardQueueDepth: Gauge;
  forwardRequests(result: ForwardResult): CounterChild;
  /** Failed OTLP exports of the sidecar's own spans (anomaly, incident, heal). */
  readonly exportFailures: CounterChild;
  readonly exportedSpans: Counter;
  /** Removes every metric from the registry (tests, shutdown); prom-client offers no way to stop its event-loop sampler, which is unref'd. */
  stop(): void;
}

export interface MetricsOptions {
  /** Prefix of the sidecar's own metric names. */
  prefix?: string;
  /** Collect the prom-client default process metrics, including event-loop lag (default true). */
  defaultMetrics?: boolean;
}

/** Caches label children of one counter by a joined key. */
function childCache(counter: Counter): (...values: string[]) => CounterChild {
  const cache = new Map<string, CounterChild>();
  return (...values: string[]) => {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let child = cache.get(key);
    if (child === undefined) {
      child = counter.labels(...values);
      cache.set(key, child);
    }
    return child;
  };
}

/** Creates the metrics on a registry of their own (never prom-client's global one). */
export function createMetrics(options: MetricsOptions = {}): SidecarMetrics {
  const prefix = options.prefix ?? 'self_healing_';
  const registry = new Registry();
  const registers = [registry];

  const spansReceived = new Counter({
    name: `${prefix}spans_received_total`,
    help: 'Spans received by the OTLP receivers',
    labelNames: ['protocol'],
    registers,
  });
  const spansRejected = new Counter({
    name: `${prefix}spans_rejected_total`,
    help: 'Spans rejected by the decoder (reported back as partial success)',
    labelNames: ['protocol'],
    registers,
  });
  const logRecordsReceived = new Counter({
    name: `${prefix}log_records_received_total`,
    help: 'Log records received by the OTLP receivers',
    labelNames: ['protocol'],
    registers,
  });
  const logRecordsRejected = new Counter({
    name: `${prefix}log_records_rejected_total`,
    help: 'Log records rejected by the decoder (reported back as partial success)',
    labelNames: ['protocol'],
    registers,
  });
  const requests = new Counter({
    name: `${prefix}receive_requests_total`,
    help: 'OTLP export requests by protocol and outcome',
    labelNames: ['protocol', 'outcome'],
    registers,
  });
  const decodeErrors = new Counter({
    name: `${prefix}decode_errors_total`,
    help: 'Export requests that could not be decoded, by reason',
    labelNames: ['protocol', 'reason'],
    registers,
  });
  const refusals = new Counter({
    name: `${prefix}receive_refusals_total`,
    help: 'Requests refused for overload (503 / UNAVAILABLE) by reason: inflight_spans, body_bytes, heap, event_loop',
    labelNames: ['protocol', 'reason'],
    registers,
  });
  const bodyBytes = new Gauge({
    name: `${prefix}receive_body_bytes`,
    help: 'Request body bytes held by the receivers (being read or processed), against receive.maxConcurrentBodyBytes',
    registers,
  });
  const beats = new Counter({
    name: `${prefix}beats_total`,
    help: 'Beats produced, by service',
    labelNames: ['service'],
    registers,
  });
  const inflightSpans = new Gauge({
    name: `${prefix}inflight_spans`,
    help: 'Spans accepted but not yet processed',
    registers,
  });
  const forwardQueueDepth = new Gauge({
    name: `${prefix}forward_queue_depth`,
    help: 'Requests waiting to be forwarded downstream',
    registers,
  });
  const forwardRequests = new Counter({
    name: `${prefix}forward_requests_total`,
    help: 'Forwarded requests by result (sent, failed = retries exhausted or not retryable, dropped = queue full, retried = attempts retried)',
    labelNames: ['result'],
    registers,
  });

  // The usual build_info pattern: a constant 1 whose labels say what is running.
  new Gauge({
    name: `${prefix}build_info`,
    help: 'Always 1; labels give the sidecar version and the Node.js version',
    labelNames: ['version', 'nodejs_version'],
    registers,
  })
    .labels(VERSION, process.versions.node)
    .set(1);
  const exportFailures = new Counter({
    name: `${prefix}export_failures_total`,
    help: 'Batches of anomaly, incident and healing spans that could not be exported, by signal',
    labelNames: ['signal'],
    registers,
  });
  const exportedSpans = new Counter({
    name: `${prefix}exported_spans_total`,
    help: 'Anomaly, incident and healing spans exported over OTLP',
    registers,
  });

  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

  const beatsByService = childCache(beats);
  const receivedBy = childCache(spansReceived);
  const rejectedBy = childCache(spansRejected);

  return {
    registry,
    spansReceived: (protocol) => receivedBy(protocol),
    spansRejected: (protocol) => rejectedBy(protocol),
    logRecordsReceived: childCache(logRecordsReceived),
    logRecordsRejected: childCache(logRecordsRejected),
    requests: childCache(requests),
    decodeErrors: childCache(decodeErrors),
    refusals: childCache(refusals),
    countBeats(list) {
      // Requests usually carry runs of one service: add per run instead of per beat.
      let i = 0;
      while (i < list.length) {
        const service = list[i]!.service;
        let j = i + 1;
        while (j < list.length && list[j]!.service === service) j++;
        beatsByService(service).inc(j - i);
        i = j;
      }
    },
    inflightSpans,
    bodyBytes,
    forwardQueueDepth,
    forwardRequests: childCache(forwardRequests),
    exportFailures: exportFailures.labels('traces'),
    exportedSpans,
    stop: () => registry.clear(),
  };
}
