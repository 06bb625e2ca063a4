import { describe, expect, it } from 'vitest';
import type { ProposeInput } from '../../../src/heal/deploy.js';
import { evidenceTraceIds, pullRequestBody, traceLink, trailer } from '../../../src/heal/github/pr-body.js';
import { passedValidation, sampleAnomaly, sampleDiagnosis } from '../fixtures/samples.js';
import { FORBIDDEN_CHARS, HOSTILE_ENTRIES } from '../text/hostile-corpus.js';

function input(overrides: Partial<ProposeInput> = {}): ProposeInput {
  return {
    jobId: 'job-9',
    anomaly: sampleAnomaly({ exemplars: [{ traceId: 'aa11', spanId: 's' }, { traceId: 'bb22', spanId: 's' }, { traceId: 'aa11', spanId: 't' }] }),
    diagnosis: sampleDiagnosis({ context: { traceIds: ['cc33', 'not a trace id', 7] } }),
    fix: { kind: 'memoize', title: 't', description: 'Memoise the lookup', diff: '', files: ['src/x.ts'], claims: {} },
    validation: passedValidation,
    baseBranch: 'main',
    ...overrides,
  };
}

describe('pull request body', () => {
  it('links traces to Jaeger without doubling slashes', () => {
    expect(traceLink('http://j:16686//', 'ab')).toBe('http://j:16686/trace/ab');
    expect(traceLink(undefined, 'ab')).toBeUndefined();
  });

  it('collects valid, distinct evidence trace ids', () => {
    expect(evidenceTraceIds(input())).toEqual(['aa11', 'bb22', 'cc33']);
  });

  it('explains anomaly, diagnosis, evidence and validation, with trailers', () => {
    const body = pullRequestBody(input(), 'http://j');
    expect(body.split('\n')[0]).toBe('Memoise the lookup');
    expect(body).toContain('## Anomaly');
    expect(body).toContain('- target: ` canvas-app ` / ` createComponent `');
    expect(body).toContain('- [cc33](http://j/trace/cc33)');
    expect(body).toContain('- tests (vitest): 4 passed, 0 failed, 1 skipped of 5');
    expect(body).toContain('- docs docs/a.md: ok');
    expect(trailer(body, 'Self-Healing-Job')).toBe('job-9');
    expect(trailer(body, 'Self-Healing-Anomaly')).toBe('an-1');
    expect(trailer(null, 'Self-Healing-Job')).toBeUndefined();
  });

  it('copes with a sparse anomaly and a validation without figures', () => {
    const body = pullRequestBody(
      input({
        anomaly: sampleAnomaly({ handler: undefined, sequence: 'seq-1', observed: {}, exemplars: [] }),
        diagnosis: sampleDiagnosis(),
        validation: { ...passedValidation, tests: undefined, coverage: undefined, performance: undefined, docs: [{ file: 'docs/b.md', problems: ['broken link'], passed: false }] },
      }),
      undefined,
    );
    expect(body).toContain('- target: ` canvas-app ` (sequence ` seq-1 `)');
    expect(body).not.toContain('observed:');
    expect(body).not.toContain('## Evidence traces');
    expect(body).not.toContain('tests (');
    expect(body).toContain('- docs docs/b.md: broken link');
  });
});

describe('pull request body from hostile telemetry', () => {
  it.each(HOSTILE_ENTRIES)('%s: every value stays inside a code span; no HTML, controls or forged trailer', (_name, text) => {
    const body = pullRequestBody(
      input({
        anomaly: sampleAnomaly({ service: text, handler: text, sequence: text, summary: text }),
        diagnosis: sampleDiagnosis({ rootCause: { cause: text, description: text, score: 0.5, evidence: [text, text] } }),
      }),
      'http://j',
    );
    expect(body).not.toMatch(FORBIDDEN_CHARS);
    expect(body).not.toContain('<');
    // No line the attacker could have started: headings, images, links or thematic breaks are ours only.
    expect(body).not.toMatch(/^(#(?!# (Anomaly|Diagnosis|Validation|Evidence traces)$)|!\[|\[|---|\*\*)/m);
    expect(trailer(body, 'Self-Healing-Job')).toBe('job-9');
    expect(trailer(body, 'Self-Healing-Anomaly')).toBe('an-1');
    // Each list line that carries telemetry starts with our own text, never with the attacker's.
    for (const line of body.split('\n').filter((l) => l.includes('target:') || l.includes('summary:'))) expect(line).toMatch(/^- (target|summary): `+ /);
  });
});
