import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { analyzeBeats } from '../../src/cli/offline-analysis.js';
import { STATUS_UNSET } from '../../src/model/beat.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { makeBeat, seededRandom } from '../detect/beat-factory.js';
import { IncidentSchema } from '../../src/model/incident.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;

function logEvent(over: Partial<LogEvent> & { timeMs: number; body: string }): LogEvent {
  return { service: 'orders', serviceVersion: '1', severityNumber: 9, severityText: '', traceId: '', spanId: '', attributes: {}, ...over };
}

describe('analyzeBeats with log records', () => {
  it('replays logs before the beats of each slice, so an exception seen only in the logs fails its spans', async () => {
    const config = ConfigSchema.parse({ detect: { sliceMs: SLICE } });
    const rand = seededRandom(11);
    const beats = [];
    const logs: LogEvent[] = [];
    for (let s = 0; s < 60; s++) {
      for (let i = 0; i < 20; i++) {
        const b = makeBeat({ startMs: T0 + s * SLICE + i * 450, durationMs: 12 + rand() * 4, status: STATUS_UNSET, service: 'orders' });
        beats.push(b);
        logs.push(logEvent({ timeMs: b.startMs + 1, body: `handling order ${i}`, traceId: b.traceId, spanId: b.spanId }));
        if (s >= 45 && rand() < 0.4) logs.push(logEvent({ timeMs: b.startMs + 3, body: `java.lang.IllegalStateException: order ${i} in bad state`, severityNumber: 17, traceId: b.traceId, spanId: b.spanId }));
      }
    }
    // Out of order on purpose: the replay sorts by time.
    logs.reverse();
    const result = await analyzeBeats(beats, config, process.cwd(), logs);
    expect(result.logs).toBe(logs.length);
    const subtypes = result.anomalies.map((a) => `${a.subtype}:${a.handler ?? a.service}`);
    expect(subtypes).toContain('error-rate-spike:chargeCard');
    expect(subtypes).toContain('new-log-template:orders');
    const fresh = result.anomalies.find((a) => a.subtype === 'new-log-template')!;
    expect(fresh.details['template']).toBe('java.lang.IllegalStateException: order <NUM> in bad state');
    expect(fresh.exemplars.length).toBeGreaterThan(0);
    expect(fresh.firstSeenMs).toBeGreaterThanOrEqual(T0 + 45 * SLICE);
  });

  it('analyzes logs alone and stays quiet on steady logs', async () => {
    const config = ConfigSchema.parse({});
    const logs: LogEvent[] = [];
    for (let s = 0; s < 200; s++) for (let i = 0; i < 5; i++) logs.push(logEvent({ timeMs: T0 + s * 10_000 + i * 1000, body: `tick ${s} worker ${i}` }));
    const result = await analyzeBeats([], config, process.cwd(), logs);
    expect(result).toMatchObject({ beats: 0, logs: 1000, fromMs: T0, toMs: T0 + 199 * 10_000 + 4000 });
    expect(result.anomalies).toEqual([]);
  });
});
describe('analyzeBeats incidents', () => {
  it('groups a fault into one incident ranked by origin, with its service anomalies in the result', async () => {
    const fault = T0 + 6 * 60_000;
    const { beats, logs } = generateTraffic(T0, fault + 3 * 60_000, 10, { pricingErrorLog: (t) => t >= fault });
    const result = await analyzeBeats(beats, ConfigSchema.parse({}), process.cwd(), logs, { instanceTag: 'cli' });
    expect(result.incidents).toHaveLength(1);
    const inc = IncidentSchema.parse(result.incidents[0]);
    expect(inc.rootCauses[0]!.service).toBe('pricing');
    expect(inc.startMs).toBeGreaterThanOrEqual(fault);
    const ids = new Set(result.anomalies.map((a) => a.id));
    expect(inc.anomalyIds.every((id) => ids.has(id))).toBe(true);
  });

  it('finds no incident without logs when the fault shows only in logs', async () => {
    const fault = T0 + 6 * 60_000;
    const { beats } = generateTraffic(T0, fault + 3 * 60_000, 10, { pricingErrorLog: (t) => t >= fault });
    const result = await analyzeBeats(beats, ConfigSchema.parse({}));
    expect(result.incidents).toEqual([]);
  });
});
