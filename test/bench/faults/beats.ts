import { STATUS_OK, type Beat } from '../../../src/model/beat.js';

/** A beat with neutral defaults, for hand-built test traces. */
export function makeBeat(over: Partial<Beat>): Beat {
  return {
    service: 'svc',
    serviceVersion: '1.0.0',
    sequence: '',
    movement: '',
    beatNumber: 0,
    event: '',
    handler: 'h',
    plugin: '',
    kind: '',
    correlationId: '',
    startMs: 0,
    durationMs: 1,
    status: STATUS_OK,
    error: undefined,
    traceId: 't',
    spanId: 's',
    parentSpanId: '',
    spanName: over.handler ?? 'h',
    attributes: {},
    ...over,
  };
}

/**
 * One sequence run as spans: a root span named `sequence` and one child beat per handler, in the
 * given order, 10 ms apart from `startMs`. Children are listed first, as exporters send them.
 */
export function makeRun(traceId: string, sequence: string, handlers: string[], startMs: number, opts: { service?: string; root?: boolean; beatAttrs?: boolean } = {}): Beat[] {
  const service = opts.service ?? 'svc';
  const rootId = `${traceId}-root`;
  const spans = handlers.map((h, i) =>
    makeBeat({
      service,
      traceId,
      spanId: `${traceId}-${i}`,
      parentSpanId: rootId,
      handler: h,
      sequence: opts.beatAttrs === false ? '' : sequence,
      beatNumber: opts.beatAttrs === false ? 0 : i + 1,
      movement: opts.beatAttrs === false ? '' : 'm',
      startMs: startMs + 1 + i * 10,
      durationMs: 5,
    }),
  );
  if (opts.root !== false) {
    spans.push(makeBeat({ service, traceId, spanId: rootId, parentSpanId: '', handler: sequence, spanName: sequence, sequence: opts.beatAttrs === false ? '' : sequence, startMs, durationMs: handlers.length * 10 + 2 }));
  }
  return spans;
}
