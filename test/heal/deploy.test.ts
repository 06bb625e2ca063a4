import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FORBIDDEN_CHARS, HOSTILE_ENTRIES } from './text/hostile-corpus.js';
import { ConfigSchema } from '../../src/config/schema.js';
import {
  branchName,
  ChecksPendingError,
  decideDeployment,
  deployFix,
  describeFix,
  type DeploymentBackend,
  type ProposeInput,
} from '../../src/heal/deploy.js';
import type { MergeResult, Proposal } from '../../src/model/heal.js';
import { passedValidation, sampleAnomaly, sampleDiagnosis } from './fixtures/samples.js';

const policy = ConfigSchema.parse({
  heal: { policy: { mode: 'auto', autoMerge: { guard: ['low', 'medium', 'high', 'critical'], 'regression-test': ['low', 'medium', 'high', 'critical'] } } },
}).heal.policy;


function input(overrides: Partial<ProposeInput> = {}): ProposeInput {
  return {
    jobId: 'job-1',
    anomaly: sampleAnomaly(),
    diagnosis: sampleDiagnosis(),
    fix: { kind: 'guard', title: 'Guard payload.component', description: 'Old clients send no component.', diff: '', files: ['src/a.ts'], claims: {} },
    validation: passedValidation,
    baseBranch: 'main',
    ...overrides,
  };
}

class FakeBackend implements DeploymentBackend {
  calls: string[] = [];
  constructor(
    readonly name: 'local' | 'github',
    private readonly checkState: 'pending' | 'success' | 'failure' = 'success',
  ) {}
  async propose(i: ProposeInput): Promise<Proposal> {
    this.calls.push('propose');
    return { id: 'p1', backend: this.name, jobId: i.jobId, branch: 'b', baseBranch: 'main', title: 't', body: '', headSha: 'h', state: 'open' };
  }
  async checks(): Promise<'pending' | 'success' | 'failure'> {
    this.calls.push('checks');
    return this.checkState;
  }
  async merge(): Promise<MergeResult> {
    this.calls.push('merge');
    return { merged: true, mergeSha: 'm1', alreadyMerged: false };
  }
  async revert(p: Proposal): Promise<Proposal> {
    return p;
  }
}

describe('decideDeployment', () => {
  const facts = { severity: 'high', kind: 'guard', validationPassed: true };
  it('never deploys a fix whose validation failed', () => {
    expect(decideDeployment(policy, 'local', { ...facts, validationPassed: false }).decision).toBe('dry-run');
  });
  it('defaults to propose and merges nothing that was not opted in', () => {
    const defaults = ConfigSchema.parse({}).heal.policy;
    expect(defaults.mode).toBe('propose');
    expect(defaults.autoMerge).toEqual({});
    expect(decideDeployment(defaults, 'local', facts).decision).toBe('propose');
    expect(decideDeployment({ ...defaults, mode: 'auto' }, 'local', facts)).toMatchObject({ decision: 'propose', reason: expect.stringContaining('not opted in') });
    expect(decideDeployment({ ...defaults, mode: 'auto' }, 'local', { ...facts, kind: 'documentation', severity: 'low' }).decision).toBe('propose');
  });
  it('auto-merges exactly the opted-in kind and severity pairs on the local backend', () => {
    expect(decideDeployment(policy, 'local', facts).decision).toBe('merge');
    expect(decideDeployment({ ...policy, autoMerge: { guard: ['critical'] } }, 'local', facts)).toMatchObject({ decision: 'propose', reason: expect.stringContaining('severity high') });
    expect(decideDeployment(policy, 'local', { ...facts, kind: 'llm' })).toMatchObject({ decision: 'propose', reason: expect.stringContaining('llm') });
  });
  it('never merges an unverified code fix, whatever the opt-in', () => {
    expect(decideDeployment(policy, 'local', { ...facts, unverified: true })).toMatchObject({ decision: 'propose', reason: expect.stringContaining('unverified') });
  });
  it('follows the mode and defaults GitHub to dry-run', () => {
    expect(decideDeployment(policy, 'github', facts).decision).toBe('dry-run');
    expect(decideDeployment({ ...policy, githubMode: 'auto' }, 'github', facts).decision).toBe('merge');
    expect(decideDeployment({ ...policy, mode: 'propose' }, 'local', facts).decision).toBe('propose');
    expect(decideDeployment({ ...policy, mode: 'dry-run' }, 'local', facts).decision).toBe('dry-run');
  });
});

describe('deployFix', () => {
  it('proposes, checks and merges under auto', async () => {
    const b = new FakeBackend('local');
    const out = await deployFix(b, input(), policy, () => 42);
    expect(b.calls).toEqual(['propose', 'checks', 'merge']);
    expect(out).toMatchObject({ decision: 'merge', checks: 'success', merge: { merged: true }, proposal: { state: 'merged', mergeSha: 'm1' }, deployedMs: 42 });
  });
  it('only proposes under propose, touches nothing under dry-run', async () => {
    const b = new FakeBackend('local');
    expect((await deployFix(b, input(), { ...policy, mode: 'propose' })).proposal?.branch).toBe('b');
    expect(b.calls).toEqual(['propose']);
    const d = new FakeBackend('github');
    const out = await deployFix(d, input(), policy);
    expect(d.calls).toEqual([]);
    expect(out.reason).toContain('self-healing/an-1-createcomponent');
  });
  it('waits for pending checks (transient) and leaves failed checks open', async () => {
    await expect(deployFix(new FakeBackend('local', 'pending'), input(), policy)).rejects.toBeInstanceOf(ChecksPendingError);
    const b = new FakeBackend('local', 'failure');
    const out = await deployFix(b, input(), policy);
    expect(out).toMatchObject({ decision: 'propose', checks: 'failure' });
    expect(b.calls).not.toContain('merge');
  });
});

describe('branchName and describeFix', () => {
  it.each(HOSTILE_ENTRIES)('%s: the commit subject is one clean line and no body line starts with telemetry', (_name, text) => {
    const { title, body } = describeFix(
      input({
        anomaly: sampleAnomaly({ handler: text, summary: text }),
        diagnosis: sampleDiagnosis({ handler: text, rootCause: { cause: text, description: text, score: 0.5, evidence: [] } }),
      }),
    );
    expect(title).not.toMatch(/[\n\r]/);
    expect(Array.from(title).length).toBeLessThanOrEqual(100);
    expect(title + body).not.toMatch(FORBIDDEN_CHARS);
    expect(body.split('\n').every((l) => l === '' || /^(Old clients|Anomaly |Diagnosis |Validation:|- |Fix kind: |Files: )/.test(l))).toBe(true);
  });

  it('builds git-safe branch names', () => {
    expect(branchName('an-1', 'createComponent')).toBe('self-healing/an-1-createcomponent');
    expect(branchName('A:B/..C', undefined)).toBe('self-healing/a-b-.c-service');
    // Names git refuses: a component ending in "." or ".lock", or starting with ".".
    expect(branchName('an-2', 'save.lock')).toBe('self-healing/an-2-save');
    expect(branchName('an-3', 'Order.')).toBe('self-healing/an-3-order');
    expect(branchName('.an-4', '.hidden')).toBe('self-healing/an-4-hidden');
    for (const name of [branchName('an-2', 'save.lock'), branchName('an-3', 'Order.'), branchName('x', '..')]) {
      expect(() => execFileSync('git', ['check-ref-format', '--branch', name], { stdio: 'pipe' }), name).not.toThrow();
    }
  });
  it('puts anomaly, diagnosis and validation figures in the message', () => {
    const { title, body } = describeFix(input());
    expect(title).toBe('fix(createComponent): Guard payload.component');
    expect(body).toContain('Anomaly an-1 (error/new-error-fingerprint, severity high)');
    expect(body).toContain('Diagnosis dg-1: null-access (score 0.80)');
    expect(body).toContain('tests (vitest): 4 passed, 0 failed, 1 skipped of 5');
    expect(body).toContain('line coverage: 93.5 %');
    expect(body).toContain('900 ms before, 450 ms after (50.0 % faster)');
    expect(body).toContain('docs docs/a.md: ok');
    expect(body).not.toContain('Self-Healing-Job');
  });
});
