import { describe, expect, it } from 'vitest';
import { runMultiServiceFaults, type FaultSpec, type MultiServiceRunResult } from './fixtures/multi-service-run.js';

/**
 * Issue 10: an instrumented multi-service app with injected faults, through a real sidecar.
 * Three child processes, frontend -> cart -> pricing, call each other over real HTTP with W3C
 * trace context and export traces and logs with the real OpenTelemetry SDK over OTLP/HTTP to the
 * sidecar (default configuration, loopback port 0); each call crosses a delaying link on the wire.
 * 3 minutes of quiet traffic, then three faults of 60 s, 150 s apart, each of:
 *  - a slow callee: the service does 10-15 ms more own work per request (3-4x);
 *  - a network delay on one edge: 20 ms more on the wire, so the caller's client span grows and
 *    the callee's server span does not (the callee is blamed: the issue's rule for a gap);
 *  - an exception, caught and logged (ERROR record bound to the request's span) on 30 % of the
 *    service's requests, no span status.
 * Two runs put the faults on different services and in a different order. App time is carried
 * in the requests (see fixtures/multi-service-run.ts), so what the sidecar receives, and so what
 * it finds, does not depend on how loaded the machine is.
 */
type ExpectedFault = FaultSpec & { rootCause: string; reason: RegExp };
const RUNS: Array<{ name: string; seed: number; faults: ExpectedFault[] }> = [
  {
    name: 'slow pricing, delay on cart -> pricing, exception logged in cart',
    seed: 7,
    faults: [
      { mode: 'slow', service: 'pricing', ms: 15, durationMs: 60_000, rootCause: 'pricing', reason: /own time per request grew/ },
      { mode: 'delay', service: 'pricing', ms: 20, durationMs: 60_000, rootCause: 'pricing', reason: /gap grew \(cart -> pricing/ },
      { mode: 'logerror', service: 'cart', share: 0.3, durationMs: 60_000, rootCause: 'cart', reason: /error log/ },
    ],
  },
  {
    name: 'exception logged in pricing, slow cart, delay on frontend -> cart',
    seed: 8,
    faults: [
      { mode: 'logerror', service: 'pricing', share: 0.3, durationMs: 60_000, rootCause: 'pricing', reason: /error log/ },
      { mode: 'slow', service: 'cart', ms: 10, durationMs: 60_000, rootCause: 'cart', reason: /own time per request grew/ },
      { mode: 'delay', service: 'cart', ms: 20, durationMs: 60_000, rootCause: 'cart', reason: /gap grew \(frontend -> cart/ },
    ],
  },
];
/** Signal windows, confirmation and trace grace: an incident opens at most this long after its fault ended. */
const DETECTION_LAG_MS = 60_000;
const LONG = 240_000;

function describeRun(r: MultiServiceRunResult): string {
  const rel = (ms: number) => `${Math.round((ms - r.t0) / 1000)}s`;
  return [
    ...r.windows.map((w) => `fault ${w.mode} ${w.service} ${rel(w.fromMs)}-${rel(w.toMs)}`),
    ...r.incidents.map((i) => `incident ${rel(i.startMs)}-${rel(i.endMs)}: ${i.rootCauses.slice(0, 3).map((c) => `${c.service} (${c.reason})`).join('; ')}`),
  ].join('\n');
}

describe('incidents from a real instrumented multi-service app', () => {
  for (const run of RUNS) {
    it(
      `${run.name}: one incident per fault with the faulty service first, nothing in the quiet minutes`,
      async () => {
        const r = await runMultiServiceFaults({ seed: run.seed, faults: run.faults, leadInMs: 180_000, gapMs: 150_000 });
        const story = describeRun(r);
        // Everything the SDKs exported arrived: traces and logs of all three services.
        for (const s of ['frontend', 'cart', 'pricing']) {
          expect(r.exports[s]!.spans, s).toBeGreaterThan(1_000);
          expect(r.exports[s]!.logs, s).toBeGreaterThan(1_000);
          expect(r.exports[s]!.failedExports, s).toBe(0);
        }
        const firstFault = r.windows[0]!.fromMs;
        // The quiet lead-in opens no incident and no anomaly at all.
        expect(r.incidents.filter((i) => i.startMs < firstFault), story).toEqual([]);
        expect(r.anomalies.filter((a) => a.firstSeenMs < firstFault).map((a) => a.summary), story).toEqual([]);
        const during = (ms: number, w: { fromMs: number; toMs: number }) => ms >= w.fromMs && ms < w.toMs + DETECTION_LAG_MS;
        for (const [k, w] of r.windows.entries()) {
          const expected = run.faults[k]!;
          const covering = r.incidents.filter((i) => during(i.startMs, w));
          expect(covering.length, `${w.mode}: one incident\n${story}`).toBe(1);
          const top = covering[0]!.rootCauses[0];
          expect(top?.service, `${w.mode}: first root cause\n${story}`).toBe(expected.rootCause);
          expect(top!.reason, `${w.mode}: why\n${story}`).toMatch(expected.reason);
          // The anomalies the fault opened are in its incident, none in another one.
          const fresh = r.anomalies.filter((a) => during(a.firstSeenMs, w) && r.incidents.some((i) => i.anomalyIds.includes(a.id)));
          expect(fresh.length, w.mode).toBeGreaterThan(0);
          for (const a of fresh) expect(covering[0]!.anomalyIds, `${w.mode}: ${a.summary}`).toContain(a.id);
        }
        // No incident outside the faults: the quiet minutes between them stay quiet.
        for (const i of r.incidents) expect(r.windows.some((w) => during(i.startMs, w)), story).toBe(true);
      },
      LONG,
    );
  }
});
