import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sidecar } from '../../src/sidecar.js';
import { FIXTURE_SERVICE, type FixtureRepo } from '../../src/demo/app-repo.js';
import { startReceivingSidecar, type ReceivingSidecar } from './receiving-sidecar.js';
import { runApp, settingsFromEnv, type AppChannel } from '../../src/demo/app-main.js';
import type { AppEvent } from '../../src/demo/app-protocol.js';

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An in-memory stand-in for the IPC channel of the child process. */
function fakeChannel(): { channel: AppChannel; events: AppEvent[]; parent: EventEmitter } {
  const parent = new EventEmitter();
  const events: AppEvent[] = [];
  return {
    events,
    parent,
    channel: {
      send: (e) => events.push(e),
      onMessage: (l) => parent.on('message', l),
      onDisconnect: (l) => parent.on('disconnect', l),
    },
  };
}

describe('settingsFromEnv', () => {
  it('reads the DEMO_* variables', () => {
    expect(
      settingsFromEnv({ DEMO_APP_DIR: '/a', DEMO_OTLP_ENDPOINT: 'http://127.0.0.1:9', DEMO_RATE: '10', DEMO_VERSION: '2.0.0', DEMO_FAULTS: 'exception' }, '/cwd'),
    ).toEqual({ appDir: '/a', otlpEndpoint: 'http://127.0.0.1:9', runsPerSecond: 10, version: '2.0.0', faults: ['exception'] });
  });

  it('falls back to defaults, also for a rate that is not a positive number', () => {
    expect(settingsFromEnv({}, '/cwd')).toEqual({ appDir: '/cwd', otlpEndpoint: 'http://127.0.0.1:4317', runsPerSecond: 25, version: '1.1.0', faults: [] });
    expect(settingsFromEnv({ DEMO_RATE: 'fast' }, '/cwd').runsPerSecond).toBe(25);
    expect(settingsFromEnv({ DEMO_RATE: '0' }, '/cwd').runsPerSecond).toBe(25);
  });
});

describe('runApp', () => {
  let repo: FixtureRepo;
  let dir: string;
  let sidecar: Sidecar;
  let env: ReceivingSidecar | undefined;

  beforeAll(async () => {
    // musical-conductor logs every run; the child process (app-process.ts) silences it the same way.
    for (const level of ['log', 'info', 'warn', 'debug'] as const) vi.spyOn(console, level).mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    env = await startReceivingSidecar('demo-app-main-');
    ({ repo, dir, sidecar } = env);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await env?.cleanup();
  });

  it('traces runs to the sidecar, takes faults, ignores junk and stops on command', async () => {
    const { channel, events, parent } = fakeChannel();
    const done = runApp({ appDir: repo.dir, otlpEndpoint: `http://127.0.0.1:${sidecar.grpc!.port}`, runsPerSecond: 40, version: '1.1.7', faults: [] }, channel);
    await waitFor('ready', () => events.some((e) => e.type === 'ready'));
    expect(events[0]).toEqual({ type: 'ready', version: '1.1.7' });
    const beat = await waitFor('a resolveTemplate beat', () => sidecar.engine.recentBeats(FIXTURE_SERVICE, 'resolveTemplate')[0]);
    expect(beat.serviceVersion).toBe('1.1.7');
    expect(JSON.parse(String(beat.attributes['beat.input']))).toHaveProperty('templateId');
    expect(sidecar.engine.recentErrors(FIXTURE_SERVICE, 'createComponent')).toEqual([]);

    parent.emit('message', { type: 'nonsense' });
    parent.emit('message', { type: 'fault', fault: 'exception' });
    expect(events.at(-1)).toEqual({ type: 'fault-injected', fault: 'exception' });
    const failed = await waitFor('a failing createComponent beat', () => sidecar.engine.recentErrors(FIXTURE_SERVICE, 'createComponent')[0]);
    expect(failed.error?.message).toContain("reading 'name'");

    parent.emit('message', { type: 'stop' });
    await done;
    expect(events.filter((e) => e.type === 'ready')).toHaveLength(1);
  });

  it('starts with the faults it is given and stops when the parent disconnects', async () => {
    const { channel, events, parent } = fakeChannel();
    const done = runApp({ appDir: repo.dir, otlpEndpoint: `http://127.0.0.1:${sidecar.grpc!.port}`, runsPerSecond: 40, version: '1.1.8', faults: ['exception'] }, channel);
    await waitFor('a failing beat of 1.1.8', () => sidecar.engine.recentErrors(FIXTURE_SERVICE, 'createComponent').find((b) => b.serviceVersion === '1.1.8'));
    parent.emit('disconnect');
    await done;
    expect(events.map((e) => e.type)).toEqual(['ready']);
  });

  it('rejects when the handlers cannot be loaded', async () => {
    const { channel, events } = fakeChannel();
    await expect(runApp({ appDir: join(dir, 'missing'), otlpEndpoint: 'http://127.0.0.1:1', runsPerSecond: 5, version: '1', faults: [] }, channel)).rejects.toThrow(/Cannot find module/);
    expect(events).toEqual([]);
  });
});
