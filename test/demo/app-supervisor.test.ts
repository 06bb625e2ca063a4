import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_ERROR } from '../../src/model/beat.js';
import type { Sidecar } from '../../src/sidecar.js';
import { FIXTURE_SERVICE, type FixtureRepo } from '../../src/demo/app-repo.js';
import { startReceivingSidecar, type ReceivingSidecar } from './receiving-sidecar.js';
import type { AppEvent } from '../../src/demo/app-protocol.js';
import { affectsRuntime, AppSupervisor, appProcessPath } from '../../src/demo/app-supervisor.js';

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('affectsRuntime', () => {
  it('is true only for merges that change what the app loads', () => {
    expect(affectsRuntime(['src/handlers/createComponent.ts'])).toBe(true);
    expect(affectsRuntime(['test/a.test.ts', 'package.json'])).toBe(true);
    expect(affectsRuntime(['test/a.test.ts', 'docs/handlers.md'])).toBe(false);
    expect(affectsRuntime([])).toBe(false);
  });

  it('finds the app process entry next to itself', () => {
    expect(existsSync(appProcessPath())).toBe(true);
  });
});

describe('AppSupervisor with a real app process and sidecar', () => {
  let repo: FixtureRepo;
  let dir: string;
  let sidecar: Sidecar;
  let env: ReceivingSidecar | undefined;

  beforeAll(async () => {
    env = await startReceivingSidecar('demo-supervisor-');
    ({ repo, dir, sidecar } = env);
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  it('runs the app, injects a fault that survives a rollout, deploys a new version and stops', async () => {
    const events: AppEvent[] = [];
    const crashes: Array<number | null> = [];
    const app = new AppSupervisor({
      appDir: repo.dir,
      otlpEndpoint: `http://127.0.0.1:${sidecar.grpc!.port}`,
      rate: 20,
      onEvent: (e) => events.push(e),
      onCrash: (code) => crashes.push(code),
    });
    try {
      await app.start('1.1.0');
      const first = app.pid;
      expect(first).toBeGreaterThan(0);
      expect(events[0]).toEqual({ type: 'ready', version: '1.1.0' });
      await waitFor('beats of all four handlers', () =>
        ['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi'].every((h) => sidecar.engine.recentBeats(FIXTURE_SERVICE, h).length > 0),
      );
      const beat = sidecar.engine.recentBeats(FIXTURE_SERVICE, 'createComponent')[0]!;
      expect(beat).toMatchObject({ sequence: 'canvas-component-create', movement: 'create', beatNumber: 1, serviceVersion: '1.1.0', kind: 'pure' });

      app.inject('exception');
      await waitFor('the fault acknowledged', () => events.some((e) => e.type === 'fault-injected' && e.fault === 'exception'));
      const failed = await waitFor('a failing createComponent beat', () => sidecar.engine.recentErrors(FIXTURE_SERVICE, 'createComponent')[0]);
      expect(failed.status).toBe(STATUS_ERROR);
      expect(failed.error?.type).toBe('TypeError');

      await app.deploy('1.1.9');
      expect(app.pid).not.toBe(first);
      // The new process keeps the fault (it models traffic) and reports its own version.
      const after = await waitFor('a failing beat of the new version', () =>
        sidecar.engine.recentErrors(FIXTURE_SERVICE, 'createComponent').find((b) => b.serviceVersion === '1.1.9'),
      );
      expect(after.error?.message).toContain("reading 'name'");
      expect(crashes).toEqual([]);
    } finally {
      await app.stop();
    }
    expect(app.pid).toBeUndefined();
    expect(crashes).toEqual([]);
  });

  it('reports a crash of the running app', async () => {
    const crashes: Array<NodeJS.Signals | null> = [];
    const app = new AppSupervisor({
      appDir: repo.dir,
      otlpEndpoint: `http://127.0.0.1:${sidecar.grpc!.port}`,
      rate: 5,
      onCrash: (_code, signal) => crashes.push(signal),
    });
    await app.start('1.1.0');
    process.kill(app.pid!, 'SIGKILL');
    await waitFor('the crash report', () => crashes.length > 0);
    expect(crashes).toEqual(['SIGKILL']);
    await app.stop();
  });

  it('fails to start when the handlers cannot be loaded', async () => {
    const app = new AppSupervisor({ appDir: join(dir, 'missing'), otlpEndpoint: 'http://127.0.0.1:1', rate: 5 });
    await expect(app.start('1.1.0')).rejects.toThrow(/the demo app 1\.1\.0 exited before it was ready \(code 1/);
    await app.stop();
  });
});
