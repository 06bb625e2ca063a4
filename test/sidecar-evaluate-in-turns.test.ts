import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../src/config/schema.js';
import { Sidecar } from '../src/sidecar.js';
import { createLogger } from '../src/emit/logger.js';
import type { Anomaly } from '../src/model/anomaly.js';
import { seededRandom, traffic } from './detect/beat-factory.js';

const SLICE = 10_000;

describe('Sidecar.evaluateInTurns: the slice timer’s evaluation, in event-loop turns', () => {
  let dir: string;
  let sidecar: Sidecar;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-turns-'));
    const config = ConfigSchema.parse({
      receive: { grpc: { port: 0 }, http: { port: 0 } },
      admin: { port: 0 },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE, windowSlices: 6 },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('error', {}, () => undefined) });
  });

  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens, stores and diagnoses an anomaly as evaluate does; a tick during a running evaluation is skipped', async () => {
    const rand = seededRandom(11);
    const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
    const spec = { service: 'canvas-app', handler: 'resolveTemplate', sequence: 'canvas-component-create', rate: 20, medianMs: 10, sigma: 0.25, errorRate: 0 };
    let opened: Anomaly | undefined;
    let skipped = 0;
    for (let i = 0; i < 80 && !opened; i++) {
      const from = t0 + i * SLICE;
      sidecar.engine.observe(traffic(rand, spec, from, from + SLICE, i >= 60 ? 4 : 1));
      const running = sidecar.evaluateInTurns(from + SLICE);
      // The timer firing again before the evaluation is done does not start a second one: one
      // two hours on would have evicted every key as idle.
      expect(await sidecar.evaluateInTurns(from + SLICE + 2 * 3600_000)).toEqual([]);
      if (sidecar.engine.stats().keys > 0) skipped++;
      for (const { change, diagnosis } of await running) {
        if (change.kind === 'opened' && change.anomaly.type === 'performance') {
          opened = change.anomaly;
          expect(diagnosis?.anomalyId).toBe(opened.id);
        }
      }
    }
    expect(opened, 'a 4x regression is detected').toBeDefined();
    expect(opened!.handler).toBe('resolveTemplate');
    expect(sidecar.store.getAnomaly(opened!.id)?.state).toBe('open');
    expect(sidecar.store.diagnosesForAnomaly(opened!.id)).toHaveLength(1);
    expect(skipped).toBeGreaterThan(60);
  });

  it('does nothing once the sidecar is stopping', async () => {
    await sidecar.stop();
    expect(await sidecar.evaluateInTurns(Date.now())).toEqual([]);
  });
});
