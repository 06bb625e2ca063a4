import { describe, expect, it } from 'vitest';
import { analyzeBeats } from '../../src/cli/offline-analysis.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { fleetTraffic } from './fleet-traffic.js';

/**
 * Issue 10: "no incident over a long simulated steady period with heavy-tailed noisy keys",
 * through the whole offline pipeline (`analyze`: detection engine + incident engine, default
 * configuration), on two hours of the steady fleet of fleet-traffic.ts: 6 % of every database
 * and bank call in a Pareto tail, load rising and falling, 1 % failing payments, sporadic error
 * logs. (test/diagnose/incident-engine.test.ts checks the same on the incident engine alone.)
 *
 * Where it stops holding (docs/incidents.md, Limits): of seeds 21-24 at this noise, seed 24 opens
 * one incident (users-db's self p90), and a 10 % tail share opens one in seed 23. Noise that
 * comes and goes is learned in part once it recurs: a service key opens only beyond what its
 * past self-limiting excursions reached (peak or length), and a recurrence teaches its baseline
 * its median; a WARN line's short bursts teach its rate and dispersion. Each key's first
 * excursion, and one that peaks higher, still open incidents (the tests below pin that down).
 */
describe('a quiet fleet stays quiet', () => {
  it('opens no incident over two hours of steady traffic with heavy-tailed noisy keys (detection engine + incident engine, default configuration)', async () => {
    const from = 1_700_000_000_000;
    const { beats, logs } = fleetTraffic(from, from + 2 * 3_600_000, 21);
    expect(beats.length).toBeGreaterThan(200_000);
    const result = await analyzeBeats(beats, ConfigSchema.parse({}), process.cwd(), logs, { instanceTag: 'quiet' });
    // The keys really are noisy: the orders database's per-minute p95 swings by 3x and more.
    const perMinute = new Map<number, number[]>();
    for (const b of beats) {
      if (b.service !== 'orders-db') continue;
      const m = Math.floor(b.startMs / 60_000);
      const v = perMinute.get(m) ?? [];
      v.push(b.durationMs);
      perMinute.set(m, v);
    }
    const p95s = [...perMinute.values()].map((v) => v.sort((x, y) => x - y)[Math.floor(0.95 * (v.length - 1))]!);
    expect(Math.max(...p95s) / Math.min(...p95s)).toBeGreaterThan(3);
    expect(result.incidents).toEqual([]);
    expect(result.anomalies.filter((a) => a.key.startsWith('svc|')).map((a) => a.summary)).toEqual([]);
  }, 180_000);

  const from = 1_700_000_000_000;
  const run = async (seed: number, noise: { tailShare: number; busyMinutes: number; warnBursts: number }) => {
    const { beats, logs } = fleetTraffic(from, from + 2 * 3_600_000, seed, noise);
    const result = await analyzeBeats(beats, ConfigSchema.parse({}), process.cwd(), logs, { instanceTag: 'quiet' });
    const perKey = new Map<string, number[]>();
    for (const a of result.anomalies) if (a.key.startsWith('svc|')) perKey.set(a.key, [...(perKey.get(a.key) ?? []), a.firstSeenMs]);
    return { incidents: result.incidents, perKey };
  };

  it('learns recurring busy minutes: the tail share of each database rises 8x in a tenth of its minutes, and fewer than half of them open incidents (15 before)', async () => {
    const { incidents, perKey } = await run(21, { tailShare: 0.06, busyMinutes: 0.1, warnBursts: 0 });
    // About a dozen busy minutes per database over two hours; fewer than half still open one (a
    // key's first excursion, or one that went beyond its remembered ones).
    expect(incidents.length).toBeLessThanOrEqual(7);
    expect([...perKey.values()].flat().length).toBeLessThanOrEqual(16);
  }, 180_000);

  it('learns a WARN line that comes in bursts of 5-15 s every few minutes: its first burst is news, the next 15 are not (one incident per burst before)', async () => {
    const { incidents, perKey } = await run(23, { tailShare: 0.06, busyMinutes: 0, warnBursts: 0.0005 });
    expect(incidents.length).toBeLessThanOrEqual(1);
    const warn = [...perKey].filter(([k]) => k.startsWith('svc|pattern|payments|log:warn:'));
    expect(warn.flatMap(([, starts]) => starts).length).toBeLessThanOrEqual(1);
  }, 180_000);
});
