import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigSchema } from '../../../src/config/schema.js';
import type { Anomaly } from '../../../src/model/anomaly.js';
import type { Beat } from '../../../src/model/beat.js';
import type { Diagnosis } from '../../../src/model/diagnosis.js';
import type { FixContext } from '../../../src/heal/fix/strategy.js';
import { FIXTURE_BUG, FIXTURE_PLUGIN, FIXTURE_SEQUENCE, FIXTURE_SERVICE } from '../../fixtures/app-repo.js';

const run = promisify(execFile);

export async function sh(cwd: string, cmd: string, args: string[], input?: string): Promise<string> {
  if (input === undefined) return (await run(cmd, args, { cwd })).stdout;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
    child.stdin?.end(input);
  });
}

/** A clean clone of the repository's HEAD, for checking that a diff applies. */
export async function cloneRepo(repoDir: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const parent = await mkdtemp(join(tmpdir(), 'heal-clone-'));
  const dir = join(parent, 'clone');
  await run('git', ['clone', '-q', repoDir, dir]);
  return { dir, cleanup: () => rm(parent, { recursive: true, force: true }) };
}

/** Runs `use` on a clean clone of the repository's HEAD and removes the clone afterwards. */
export async function withClone<T>(repoDir: string, use: (dir: string) => Promise<T>): Promise<T> {
  const clone = await cloneRepo(repoDir);
  try {
    return await use(clone.dir);
  } finally {
    await clone.cleanup();
  }
}

/** Throws unless every diff passes `git apply --check` on a clean clone of the repository's HEAD. */
export async function checkDiffsApply(repoDir: string, diffs: readonly string[]): Promise<void> {
  await withClone(repoDir, async (dir) => {
    for (const diff of diffs) await sh(dir, 'git', ['apply', '--check', '-'], diff);
  });
}

export async function gitStatus(dir: string): Promise<string> {
  return (await run('git', ['status', '--porcelain'], { cwd: dir })).stdout;
}

let seq = 0;
export function beat(handler: string, attributes: Beat['attributes'], opts: Partial<Beat> = {}): Beat {
  seq++;
  return {
    service: FIXTURE_SERVICE,
    serviceVersion: '1.1.0',
    sequence: FIXTURE_SEQUENCE,
    movement: 'create',
    beatNumber: 1,
    event: 'canvas:component:create',
    handler,
    plugin: FIXTURE_PLUGIN,
    kind: 'pure',
    correlationId: `c${String(seq)}`,
    startMs: 1_700_000_000_000 + seq,
    durationMs: 1,
    status: 1,
    error: undefined,
    traceId: `trace${String(seq).padStart(4, '0')}`,
    spanId: `span${String(seq)}`,
    parentSpanId: '',
    spanName: handler,
    attributes,
    ...opts,
  };
}

export const STACK = [
  `TypeError: ${FIXTURE_BUG.errorMessage}`,
  `    at createComponent (/srv/app/${FIXTURE_BUG.file}:${String(FIXTURE_BUG.line)}:${String(FIXTURE_BUG.column)})`,
  '    at runBeat (/srv/app/node_modules/musical-conductor/dist/conductor.js:120:9)',
].join('\n');

export function anomaly(overrides: Partial<Anomaly> = {}): Anomaly {
  return {
    id: 'an-1',
    key: 'error:canvas-app:createComponent',
    type: 'error',
    subtype: 'new-error-fingerprint',
    severity: 'high',
    confidence: 0.9,
    state: 'open',
    service: FIXTURE_SERVICE,
    handler: 'createComponent',
    sequence: FIXTURE_SEQUENCE,
    windowStartMs: 0,
    windowEndMs: 60_000,
    firstSeenMs: 0,
    lastSeenMs: 60_000,
    summary: 'new TypeError in createComponent',
    observed: { errorRate: 0.3 },
    expected: { errorRate: 0 },
    details: {},
    exemplars: [{ traceId: 'trace-ex', spanId: 's1' }],
    ...overrides,
  };
}

export function diagnosis(context: Record<string, unknown>, overrides: Partial<Diagnosis> = {}): Diagnosis {
  return {
    id: 'dg-1',
    anomalyId: 'an-1',
    createdMs: 1,
    service: FIXTURE_SERVICE,
    handler: 'createComponent',
    sequence: FIXTURE_SEQUENCE,
    rootCause: { cause: 'null-access', description: 'payload.component is undefined', score: 0.9, evidence: [] },
    hypotheses: [],
    affected: { handlers: ['createComponent'], sequences: [FIXTURE_SEQUENCE], services: [FIXTURE_SERVICE] },
    impact: { trafficShare: 0.3, affectedRuns: 3, affectedCorrelationIds: 3, severity: 'high' },
    recommendedFixes: ['regression-test', 'guard', 'rollback', 'documentation'],
    suspects: [],
    context,
    ...overrides,
  };
}

/** The null-access error in createComponent, as the diagnosis stage would describe it. */
export function nullAccessContext(repoDir: string, overrides: Partial<FixContext> = {}): FixContext {
  const failing = { 'beat.input.position.x': 10, 'beat.input.position.y': 20 };
  return {
    repoDir,
    heal: ConfigSchema.parse({}).heal,
    anomaly: anomaly(),
    diagnosis: diagnosis({
      handler: 'createComponent',
      service: FIXTURE_SERVICE,
      plugin: FIXTURE_PLUGIN,
      kind: 'pure',
      sequence: FIXTURE_SEQUENCE,
      errorKind: 'null-access',
      error: {
        type: FIXTURE_BUG.errorType,
        message: FIXTURE_BUG.errorMessage,
        topFrame: `createComponent (/srv/app/${FIXTURE_BUG.file}:${String(FIXTURE_BUG.line)}:${String(FIXTURE_BUG.column)})`,
        stacktrace: STACK,
        fingerprint: 'fp1',
      },
      baseline: { p50Ms: 1, p95Ms: 2, p99Ms: 3, errorRate: 0 },
      observed: { p50Ms: 1, p95Ms: 2, p99Ms: 3, errorRate: 0.3 },
      previousVersion: '1.0.0',
      newVersion: '1.1.0',
    }),
    beats: [
      beat('createComponent', { 'beat.input.name': 'Card', 'beat.input.component.name': 'Card', 'beat.input.component.type': 'card', 'beat.input.position.x': 1, 'beat.input.position.y': 2 }),
      beat('createComponent', failing, { status: 2 }),
      beat('createComponent', failing, { status: 2 }),
    ],
    ...overrides,
  };
}
