import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../bench/scenarios/otel-shop-app.js';
import { runScenario } from '../bench/scenarios/scenario-run.js';

/**
 * Issue 10's hidden checks, rebuilt: a plain OpenTelemetry app made with the real SDK (SERVER
 * root span per request, child spans per handler with code.function, 200 requests/s) exports over
 * OTLP/HTTP to a real sidecar with the default configuration; 150 s of steady traffic, then a
 * fault for 60 s. App time is the span timestamps and the sidecar's evaluation is called at app
 * time (see scenario-run.ts), so the outcome does not depend on how loaded the machine is.
 */
const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
const LONG = 600_000;

describe('plain OTel app scenarios through a real sidecar', () => {
  it(
    'flags a sustained 3.5x regression of one child handler under one anomaly id, and nothing before it',
    async () => {
      const r = await runScenario({ scenario: scenario('child-latency-3.5x'), seed: 42 });
      expect(r.falseBeforeFault).toEqual([]);
      const onHandler = r.anomalies.filter((a) => a.type === 'performance' && a.handler === 'loadOrder');
      expect(onHandler).toHaveLength(1);
      expect(onHandler[0]!.firstSeenMs).toBeGreaterThanOrEqual(r.faultStartMs);
      expect(onHandler[0]!.state).not.toBe('resolved');
      // The API shows the regression against the baseline it was judged by.
      const figures = r.handlers.find((h) => h.handler === 'loadOrder')!;
      expect(figures.p95Ms / figures.baselineP95Ms!).toBeGreaterThan(2);
      // Handlers the fault did not touch stay quiet.
      expect(r.anomalies.filter((a) => a.handler !== undefined && !['loadOrder', 'GET /api/orders/:id'].includes(a.handler))).toEqual([]);
      // The handler's anomaly is part of an incident (GET /api/v1/incidents), and so is every other.
      const owner = r.incidents.filter((i) => i.anomalyIds.includes(onHandler[0]!.id));
      expect(owner).toHaveLength(1);
      for (const a of r.anomalies) expect(r.incidents.some((i) => i.anomalyIds.includes(a.id)), a.summary).toBe(true);
    },
    LONG,
  );

  it(
    'flags a new exception thrown on 30 % of one handler’s calls as a new error of that handler',
    async () => {
      const r = await runScenario({ scenario: scenario('new-exception-30%'), seed: 43 });
      expect(r.falseBeforeFault).toEqual([]);
      const fingerprint = r.anomalies.filter((a) => a.subtype === 'new-error-fingerprint' && a.handler === 'renderOrder');
      expect(fingerprint).toHaveLength(1);
      expect(fingerprint[0]!.details.errorType).toBe('TypeError');
      expect(fingerprint[0]!.firstSeenMs).toBeGreaterThanOrEqual(r.faultStartMs);
      const rate = r.anomalies.filter((a) => a.subtype === 'error-rate-spike' && a.handler === 'renderOrder');
      expect(rate.length).toBeLessThanOrEqual(1);
    },
    LONG,
  );

  it(
    'raises nothing over the same steady traffic without a fault',
    async () => {
      const r = await runScenario({ scenario: scenario('quiet-control'), seed: 44 });
      expect(r.requests).toBeGreaterThan(30_000);
      expect(r.anomalies).toEqual([]);
    },
    LONG,
  );
});
