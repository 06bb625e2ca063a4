import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/index.js';
import { DEMO_TEST_COMMAND, demoConfig, demoConfigInput } from '../../src/demo/demo-config.js';

describe('demoConfig', () => {
  const input = { repoDir: '/tmp/demo/app', stateDir: '/tmp/demo' };

  it('is a valid configuration tuned for a two-minute loop', () => {
    const c = demoConfig(input);
    expect(c.detect.sliceMs).toBe(1000);
    expect(c.detect.baselineMinSlices * c.detect.sliceMs).toBeLessThanOrEqual(10_000);
    expect(c.heal.observationMs).toBeLessThanOrEqual(20_000);
    expect(c.heal.policy.mode).toBe('auto');
    expect(c.heal.repository.path).toBe('/tmp/demo/app');
    expect(c.heal.repository.testCommand).toBe(DEMO_TEST_COMMAND);
    expect(c.heal.workDir).toBe('/tmp/demo/worktrees');
    expect(c.store.path).toBe('/tmp/demo/state.db');
  });

  it('points detection at the repository sequence and coverage report', () => {
    const c = demoConfig(input);
    expect(c.detect.sequenceFiles).toEqual(['/tmp/demo/app/sequences/canvas-component-create.sequence.json']);
    expect(c.detect.coverageReport).toBe('/tmp/demo/app/coverage/coverage-final.json');
  });

  it('keeps everything on this machine', () => {
    const c = demoConfig(input);
    expect(c.emit.otlp.enabled).toBe(false);
    expect(c.forward.enabled).toBe(false);
    expect(c.receive.http.enabled).toBe(false);
    expect(c.receive.grpc.host).toBe('127.0.0.1');
    expect(c.admin.host).toBe('127.0.0.1');
  });

  it('takes the ports it is given, defaulting to a free gRPC port and the usual dashboard port', () => {
    expect(demoConfig(input).receive.grpc.port).toBe(0);
    expect(demoConfig(input).admin.port).toBe(8787);
    const c = demoConfig({ ...input, adminPort: 0, grpcPort: 14317 });
    expect(c.admin.port).toBe(0);
    expect(c.receive.grpc.port).toBe(14317);
  });

  it('the input form round-trips through the schema unchanged in the fields it sets', () => {
    const parsed = ConfigSchema.parse(demoConfigInput(input));
    expect(parsed.detect.errors.fingerprintWarmupBeats).toBe(100);
    expect(parsed.heal.learning.alpha).toBe(0.001);
  });
});
