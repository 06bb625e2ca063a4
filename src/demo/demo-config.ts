import { join } from 'node:path';
import { ConfigSchema, type Config, type ConfigInput } from '../config/index.js';
import { FIXTURE_SEQUENCE } from './app-repo.js';

const ALL_SEVERITIES: Array<'low' | 'medium' | 'high' | 'critical'> = ['low', 'medium', 'high', 'critical'];

export interface DemoConfigInput {
  /** The demo's application repository (real git). */
  repoDir: string;
  /** Where the database and git worktrees go. */
  stateDir: string;
  /** Admin (dashboard) port; 0 picks a free one. */
  adminPort?: number;
  /** OTLP gRPC receiver port; 0 picks a free one. */
  grpcPort?: number;
}

/** The vitest entry inside the repository's node_modules: runs the tests without npm. */
export const DEMO_TEST_COMMAND = 'node node_modules/vitest/vitest.mjs run --coverage';

/**
 * Configuration for the demo: the embedded defaults with detection tuned for a two-minute run
 * (1 s slices, a 6 s window, a baseline usable after 8 s), healing in auto mode on the demo
 * repository, and nothing leaving the machine (no anomaly-span export, no forwarding).
 */
export function demoConfigInput(input: DemoConfigInput): ConfigInput {
  return {
    serviceName: 'self-healing-demo',
    logLevel: 'warn',
    receive: {
      grpc: { host: '127.0.0.1', port: input.grpcPort ?? 0 },
      http: { enabled: false },
    },
    admin: { host: '127.0.0.1', port: input.adminPort ?? 8787 },
    forward: { enabled: false },
    emit: { otlp: { enabled: false } },
    store: { path: join(input.stateDir, 'state.db') },
    detect: {
      sliceMs: 1000,
      windowSlices: 6,
      baselineSlices: 120,
      baselineMinSlices: 8,
      minSamples: 20,
      runTimeoutMs: 5000,
      sequenceFiles: [join(input.repoDir, 'sequences', `${FIXTURE_SEQUENCE}.sequence.json`)],
      coverageReport: join(input.repoDir, 'coverage', 'coverage-final.json'),
      errors: { fingerprintWarmupBeats: 100, minErrors: 3 },
      resolveAfter: 3,
      updateEvery: 30,
    },
    heal: {
      enabled: true,
      concurrency: 2,
      maxAttempts: 3,
      backoffMs: 1000,
      pollMs: 250,
      observationMs: 15_000,
      workDir: join(input.stateDir, 'worktrees'),
      // The demo shows the whole loop, so it opts in to merging guards, memos and tests (a code fix
      // still merges only when proven: its regression test fails on the base and passes on the patch).
      policy: { mode: 'auto', autoMerge: { guard: ALL_SEVERITIES, memoize: ALL_SEVERITIES, 'regression-test': ALL_SEVERITIES } },
      // A strict level: with 200 beats a side, the rank test calls a shift of a microsecond
      // "significant" (learn.ts has no effect-size floor), which would read a fixed error as worse.
      learning: { minSamples: 8, alpha: 0.001 },
      // The claimed tests' timing is compared before/after; on a busy laptop vitest's start-up
      // alone varies by a few hundred ms, so only a doubling counts as slower here.
      validation: { perfTolerancePct: 100 },
      repository: {
        path: input.repoDir,
        baseBranch: 'main',
        testCommand: DEMO_TEST_COMMAND,
        testTimeoutMs: 120_000,
      },
    },
  };
}

export function demoConfig(input: DemoConfigInput): Config {
  return ConfigSchema.parse(demoConfigInput(input));
}
