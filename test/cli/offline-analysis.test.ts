import { describe, expect, it } from 'vitest';
import { analyzeBeats } from '../../src/cli/offline-analysis.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { IncidentSchema } from '../../src/model/incident.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const T0 = 1_700_000_000_000;

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
