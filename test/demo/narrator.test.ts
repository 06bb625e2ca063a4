import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/emit/event-bus.js';
import { describeAnomaly, Narrator, STEPS } from '../../src/demo/narrator.js';

let seq = 0;
const ev = (kind: string, payload: unknown): StoredEvent => ({ seq: ++seq, kind, timeMs: 1_000, payload });

const anomaly = {
  id: 'an_1',
  key: 'error:handler:canvas-app:createComponent',
  type: 'error',
  subtype: 'new-error-fingerprint',
  severity: 'medium',
  service: 'canvas-app',
  handler: 'createComponent',
  summary: "createComponent new error TypeError: Cannot read properties of undefined (reading 'name')",
};
const base = { jobId: 'job-1', anomalyId: 'an_1', diagnosisId: 'dg_1', attempt: 1 };

function opened(n: Narrator): void {
  n.narrate(ev('anomaly.opened', anomaly));
}

describe('Narrator', () => {
  it('tells an opened anomaly with its type, place and summary', () => {
    const n = new Narrator();
    const { lines, loop } = n.narrate(ev('anomaly.opened', anomaly));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.step).toBe(STEPS.anomaly);
    expect(lines[0]!.text).toMatch(/^anomaly detected +\[createComponent\] error\/new-error-fingerprint in createComponent, severity medium: createComponent new error/);
    expect(loop).toEqual({ anomalyId: 'an_1', kind: 'opened' });
    expect(n.anomaly('an_1')?.handler).toBe('createComponent');
  });

  it('tells the first diagnosis of an anomaly once, with root cause and recommended fixes', () => {
    const n = new Narrator();
    opened(n);
    const d = { anomalyId: 'an_1', rootCause: { cause: 'code-defect', description: 'TypeError from a null access', score: 0.95 }, recommendedFixes: ['guard', 'regression-test'] };
    const first = n.narrate(ev('diagnosis.created', d));
    expect(first.lines[0]!.text).toContain('root cause code-defect (score 0.95): TypeError from a null access; recommended fixes: guard, regression-test');
    expect(first.loop?.kind).toBe('diagnosed');
    expect(n.narrate(ev('diagnosis.created', d)).lines).toEqual([]);
  });

  it('tells the generated fix with its files and the other candidates', () => {
    const n = new Narrator();
    opened(n);
    const fixes = [
      { kind: 'guard', title: 'Guard payload.component.name', files: ['src/handlers/createComponent.ts'] },
      { kind: 'regression-test', title: 'Regression test', files: ['test/x.test.ts'] },
    ];
    const { lines, loop } = n.narrate(ev('fix.generated', { ...base, result: fixes }));
    expect(lines[0]!.text).toContain('guard: Guard payload.component.name (files: src/handlers/createComponent.ts); also regression-test');
    expect(loop?.kind).toBe('fixed');
    expect(n.narrate(ev('fix.generated', { ...base, result: [] })).lines[0]!.text).toContain('no candidate');
  });

  it('tells every validated candidate with real test counts, and which one was chosen', () => {
    const n = new Narrator();
    opened(n);
    const results = [
      { passed: false, reasons: ['tests failed'], durationMs: 2100, tests: { runner: 'vitest', passed: 2, failed: 1, skipped: 0 } },
      { passed: true, reasons: [], durationMs: 3000, tests: { runner: 'vitest', passed: 4, failed: 0 }, performance: { beforeMs: 150, afterMs: 0.5, improvementPct: 99 } },
    ];
    const { lines, loop } = n.narrate(ev('validation.completed', { ...base, result: { chosen: 1, results } }));
    expect(lines.map((l) => l.step)).toEqual([STEPS.validation, STEPS.validation]);
    expect(lines[0]!.text).toContain('candidate 1 failed (tests failed): tests 2 passed, 1 failed (vitest) in 2.1 s');
    expect(lines[1]!.text).toContain('candidate 2 passed: tests 4 passed, 0 failed (vitest); claimed tests 150 ms -> 0.50 ms in 3.0 s -> chosen');
    expect(loop?.kind).toBe('validated');
  });

  it('tells a rejected validation, folding multi-line tool output into one line', () => {
    const n = new Narrator();
    opened(n);
    const failed = n.narrate(ev('validation.completed', { ...base, passed: false, reason: 'patch does not apply:\n  error: x', result: { results: [] } }));
    expect(failed.lines[0]!.text).toMatch(/failed: patch does not apply: error: x$/);
    const noTests = n.narrate(ev('validation.completed', { ...base, result: { results: [{ passed: true, reasons: [] }] } }));
    expect(noTests.lines[0]!.text).toContain('candidate 1 passed: no test summary');
  });

  it('tells a merge with branch and merge commit, and a deployment that did not merge', () => {
    const n = new Narrator();
    opened(n);
    const merged = n.narrate(
      ev('deployment.completed', {
        ...base,
        result: {
          decision: 'merge',
          reason: 'auto',
          proposal: { branch: 'self-healing/an_1-createcomponent', baseBranch: 'main', headSha: 'abc' },
          merge: { merged: true, mergeSha: '0123456789abcdef' },
        },
      }),
    );
    expect(merged.lines[0]!.text).toContain('merged           [createComponent] self-healing/an_1-createcomponent into main: merge commit 0123456789');
    expect(merged.loop).toEqual({ anomalyId: 'an_1', kind: 'merged', mergeSha: '0123456789abcdef', branch: 'self-healing/an_1-createcomponent' });
    const proposed = n.narrate(ev('deployment.completed', { ...base, result: { decision: 'propose', reason: 'policy mode propose (local)', proposal: { branch: 'b', baseBranch: 'main', headSha: 'x' } } }));
    expect(proposed.lines[0]!.text).toContain('not merged (propose): policy mode propose (local); branch b');
    expect(proposed.loop).toBeUndefined();
  });

  it('tells the learning verdict with before/after figures and a revert', () => {
    const n = new Narrator();
    opened(n);
    const { lines, loop } = n.narrate(
      ev('learning.completed', {
        ...base,
        result: { verdict: 'improved', p95BeforeMs: 17.3, p95AfterMs: 0.02, errorRateBefore: 0.085, errorRateAfter: 0, samplesBefore: 200, samplesAfter: 180 },
      }),
    );
    expect(lines[0]!.text).toContain('verdict improved: p95 17.3 ms -> 0.02 ms, errors 8.5 % -> 0.0 %, 200 beats before, 180 after');
    expect(loop).toEqual({ anomalyId: 'an_1', kind: 'learned', verdict: 'improved' });
    const worse = n.narrate(ev('learning.completed', { ...base, result: { verdict: 'worse', samplesBefore: 1, samplesAfter: 2, revert: { branch: 'self-healing/revert-x' } } }));
    expect(worse.lines[0]!.text).toContain('verdict worse: 1 beats before, 2 after; reverted through self-healing/revert-x');
  });

  it('tells a stopped job and a resolved anomaly', () => {
    const n = new Narrator();
    opened(n);
    const failed = n.narrate(ev('job.failed', { ...base, stage: 'fix.generate', reason: 'no fix could be generated' }));
    expect(failed.lines[0]!.text).toContain('healing stopped  [createComponent] failed at fix.generate: no fix could be generated');
    expect(failed.loop?.kind).toBe('stopped');
    const parked = n.narrate(ev('job.parked', { ...base, error: 'git apply failed' }));
    expect(parked.lines[0]!.text).toContain('parked: git apply failed');
    const resolved = n.narrate(ev('anomaly.resolved', { ...anomaly, state: 'resolved' }));
    expect(resolved.lines[0]!.step).toBe(STEPS.resolved);
    expect(resolved.loop?.kind).toBe('resolved');
  });

  it('labels events of an unknown anomaly by its id and ignores malformed or untold events', () => {
    const n = new Narrator();
    const { lines } = n.narrate(ev('job.failed', { jobId: 'j', anomalyId: 'an_unknown_123' }));
    expect(lines[0]!.text).toContain('[an_unkno] failed: unknown reason');
    expect(n.narrate(ev('anomaly.updated', anomaly)).lines).toEqual([]);
    for (const kind of ['anomaly.opened', 'anomaly.resolved', 'diagnosis.created', 'fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed', 'job.failed']) {
      expect(n.narrate(ev(kind, { nonsense: true })).lines).toEqual([]);
    }
  });

  it('tells a rollout and a merge that needs none', () => {
    const n = new Narrator();
    opened(n);
    expect(n.deployed('an_1', '1.1.1+0123456', '0123456789abcdef').text).toBe('deploy           [createComponent] canvas-app 1.1.1+0123456 rolled out: a new process runs merge 0123456789');
    expect(n.notRolledOut('an_1', '0123456789abcdef', ['test/a.test.ts']).text).toContain('nothing to roll out: merge 0123456789 changes only test/a.test.ts');
    expect(n.notRolledOut('an_1', '0123456789abcdef', []).text).toContain('changes no files (main already had the fix)');
  });

  it('describes an anomaly by handler, else sequence, else service', () => {
    const a = { ...anomaly, handler: undefined };
    expect(describeAnomaly(anomaly)).toBe('error/new-error-fingerprint in createComponent');
    expect(describeAnomaly({ ...a, sequence: 'seq' })).toBe('error/new-error-fingerprint in seq');
    expect(describeAnomaly(a)).toBe('error/new-error-fingerprint in canvas-app');
  });
});
