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
 * one incident (users-db's self p90 in one window, z 9.8), and a 10 % tail share opens one in
 * seed 23; busy minutes (fleetTraffic's `busyMinutes` 0.1: 15 incidents in 2 h, seed 21) and
 * recurring bursts of one WARN line (`warnBursts` 0.0005: 16 in 2 h, one per burst, seed 23)
 * are not learned as normal.
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
});
