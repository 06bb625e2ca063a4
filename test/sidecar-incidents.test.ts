import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../src/config/schema.js';
import { Sidecar } from '../src/sidecar.js';
import { createLogger } from '../src/emit/logger.js';
import type { IncidentView } from '../src/model/incident.js';
import { makeError, seededRandom, traffic } from './detect/beat-factory.js';
import { generateTraffic } from './diagnose/service-traffic.js';
import { OtlpTestReceiver } from './emit/otlp-test-receiver.js';
import { waitFor } from './emit/store-fixture.js';

const SLICE = 10_000;

/**
 * The whole sidecar over a real SQLite file, a real fixture git repository, the admin API on
 * loopback and a real OTLP receiver: an incident opens from three-service traffic (pricing gets
 * slow), an operator silences it over HTTP, then two handlers start failing: one in the silenced
 * incident's service (pricing), one elsewhere (billing).
 */
describe('Sidecar: stored incidents, incident spans and silence', () => {
  it('stores the incident, emits its span, and does not heal an anomaly of the silenced incident while healing the other', async () => {
    const { createFixtureRepo } = await import('./fixtures/app-repo.js');
    const repo = await createFixtureRepo({ bug: 'null-access' });
    const dir = mkdtempSync(join(tmpdir(), 'sh-sidecar-incidents-'));
    const otlp = new OtlpTestReceiver();
    await otlp.start();
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0 },
      emit: { otlp: { endpoint: `http://127.0.0.1:${otlp.port}`, protocol: 'grpc' } },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE, windowSlices: 6 },
      heal: { repository: { path: repo.dir } },
    });
    const logs: string[] = [];
    let sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('info', {}, (l) => logs.push(l)) });
    try {
      const rand = seededRandom(5);
      const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
      const slowFrom = t0 + 36 * SLICE;
      const err = makeError('TypeError', "Cannot read properties of undefined (reading 'name')", 'src/handlers/createComponent.ts:15');
      let incident: IncidentView | undefined;
      let failFrom = Infinity;
      const opened = new Map<string, string>();
      for (let i = 0; i < 110 && opened.size < 2; i++) {
        const from = t0 + i * SLICE;
        const { beats: graphBeats } = generateTraffic(from, from + SLICE, 20, { slowPricingMs: (t) => (t >= slowFrom ? 80 : 0) }, 100 + i);
        sidecar.incidents.observe(graphBeats);
        const failing = from >= failFrom;
        for (const service of ['pricing', 'billing']) {
          const spec = { service, handler: 'createComponent', sequence: `${service}-create`, rate: 20, medianMs: 3, sigma: 0.2, errorRate: failing ? 0.3 : 0, errors: [err] };
          sidecar.engine.observe(traffic(rand, spec, from, from + SLICE));
        }
        for (const { change } of sidecar.evaluate(from + SLICE)) {
          if (change.kind === 'opened' && change.anomaly.type === 'error' && !opened.has(change.anomaly.service)) opened.set(change.anomaly.service, change.anomaly.id);
        }
        if (incident === undefined) {
          const list = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents?state=open`)).json()) as IncidentView[];
          const found = list.find((x) => x.services.includes('pricing'));
          if (found !== undefined) {
            const r = await fetch(`${sidecar.admin!.url}/api/v1/incidents/${found.id}/silence`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ forMs: 3_600_000, reason: 'pricing deploy in progress' }),
            });
            expect(r.status).toBe(200);
            incident = (await r.json()) as IncidentView;
            // The handlers start failing once the incident is open and silenced (and the engine has its baseline).
            failFrom = Math.max(from + 2 * SLICE, t0 + 60 * SLICE);
          }
        }
      }
      expect(incident, 'an incident opened for the slow pricing service').toBeDefined();
      expect(incident!.silencedUntilMs).toBeGreaterThan(Date.now());
      expect([...opened.keys()].sort()).toEqual(['billing', 'pricing']);

      const jobs = sidecar.pipeline!.queue.list({});
      expect(jobs.filter((j) => j.service === 'billing')).toHaveLength(1);
      expect(jobs.filter((j) => j.service === 'pricing')).toHaveLength(0);
      const skipped = sidecar.store.eventsSince(0, 100_000).filter((e) => e.kind === 'heal.skipped');
      // One defect opens several anomalies (new fingerprint, error-rate spike): each is skipped, each said so.
      const skippedIds = skipped.map((e) => (e.payload as { anomalyId: string }).anomalyId);
      expect(skippedIds).toContain(opened.get('pricing'));
      for (const e of skipped) {
        const p = e.payload as { anomalyId: string; incidentId: string };
        expect(sidecar.store.getAnomaly(p.anomalyId)!.service).toBe('pricing');
        expect(p.incidentId).toBe(incident!.id);
      }
      expect(logs.some((l) => l.includes('not healing: incident') && l.includes('is silenced until'))).toBe(true);

      // The detail tells the story, the incident span went out, and all of it survives a restart.
      const detail = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents/${incident!.id}`)).json()) as { incident: IncidentView; timeline: Array<{ kind: string; text: string }> };
      expect(detail.incident.rootCauses[0]!.service).toBe('pricing');
      expect(detail.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'silenced', 'heal-skipped']));
      await sidecar.emitter!.flush();
      await waitFor(() => otlp.spans.some((s) => s.name === 'incident' && s.attributes['self_healing.incident.id'] === incident!.id), 20_000, 'the incident span');
      const span = otlp.spans.find((s) => s.name === 'incident')!;
      const anomalySpanIds = new Set(otlp.spans.filter((s) => s.name.startsWith('anomaly ')).map((s) => s.spanId));
      expect(span.links.length).toBeGreaterThan(0);
      expect(span.links.every((l) => anomalySpanIds.has(l.spanId))).toBe(true);

      await sidecar.stop();
      sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent') });
      const after = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents/${incident!.id}`)).json()) as { incident: IncidentView; timeline: Array<{ kind: string }> };
      expect(after.incident.silencedUntilMs).toBe(incident!.silencedUntilMs);
      // Nothing tracks it after the restart: it is closed, and says why.
      expect(after.incident.state).toBe('resolved');
      expect(after.timeline.map((e) => e.kind)).toContain('interrupted');
    } finally {
      await sidecar.stop();
      await otlp.stop();
      await repo.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('holds a healing job queued before its incident was silenced, and lets it go on once the silence is lifted', async () => {
    const { createFixtureRepo } = await import('./fixtures/app-repo.js');
    const repo = await createFixtureRepo({ bug: 'null-access' });
    const dir = mkdtempSync(join(tmpdir(), 'sh-sidecar-held-'));
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0 },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE, windowSlices: 6 },
      heal: { repository: { path: repo.dir } },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent') });
    try {
      const rand = seededRandom(7);
      const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
      const slowFrom = t0 + 36 * SLICE;
      const err = makeError('TypeError', "Cannot read properties of undefined (reading 'name')", 'src/handlers/createComponent.ts:15');
      let failFrom = Infinity;
      let jobId: string | undefined;
      for (let i = 0; i < 110 && jobId === undefined; i++) {
        const from = t0 + i * SLICE;
        const { beats: graphBeats } = generateTraffic(from, from + SLICE, 20, { slowPricingMs: (t) => (t >= slowFrom ? 80 : 0) }, 300 + i);
        sidecar.incidents.observe(graphBeats);
        const spec = { service: 'pricing', handler: 'createComponent', sequence: 'pricing-create', rate: 20, medianMs: 3, sigma: 0.2, errorRate: from >= failFrom ? 0.3 : 0, errors: [err] };
        sidecar.engine.observe(traffic(rand, spec, from, from + SLICE));
        sidecar.evaluate(from + SLICE);
        if (failFrom === Infinity && sidecar.incidents.incidents().some((x) => x.state === 'open' && x.services.includes('pricing'))) failFrom = Math.max(from + 2 * SLICE, t0 + 60 * SLICE);
        jobId = sidecar.pipeline!.queue.list({}).find((j) => j.service === 'pricing')?.id;
      }
      expect(jobId, 'a healing job for the failing pricing handler, queued while nothing was silenced').toBeDefined();
      const incident = ((await (await fetch(`${sidecar.admin!.url}/api/v1/incidents?state=open`)).json()) as IncidentView[]).find((x) => x.services.includes('pricing'))!;
      const silence = await fetch(`${sidecar.admin!.url}/api/v1/incidents/${incident.id}/silence`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ forMs: 3_600_000 }),
      });
      expect(silence.status).toBe(200);

      const held = await sidecar.pipeline!.runJobNow(jobId!);
      expect(held).toMatchObject({ state: 'queued', stage: 'fix.generate', attempt: 0 });
      expect(held!.error).toContain(`incident ${incident.id} is silenced until`);
      expect(sidecar.pipeline!.queue.stageResults(jobId!)).toHaveLength(0);
      const heldEvents = sidecar.store.eventsSince(0, 100_000).filter((e) => e.kind === 'job.held');
      expect(heldEvents.map((e) => (e.payload as { jobId: string; incidentId: string }).incidentId)).toEqual([incident.id]);
      const detail = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents/${incident.id}`)).json()) as { timeline: Array<{ kind: string; text: string }> };
      expect(detail.timeline.find((e) => e.kind === 'heal-held')?.text).toContain(jobId!);

      expect((await fetch(`${sidecar.admin!.url}/api/v1/incidents/${incident.id}/silence`, { method: 'DELETE', headers: { 'content-type': 'application/json' } })).status).toBe(200);
      const after = await sidecar.pipeline!.runJobNow(jobId!);
      // Lifted: the job left fix.generate (whatever the fix's fate, the stage ran).
      expect(sidecar.pipeline!.queue.stageResults(jobId!).map((r) => r.stage)).toContain('fix.generate');
      expect(after!.error ?? '').not.toContain('silenced');
    } finally {
      await sidecar.stop();
      await repo.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
