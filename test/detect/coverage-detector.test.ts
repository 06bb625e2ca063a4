import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoverageDetector, severityForShare, type TrafficView } from '../../src/detect/coverage-detector.js';
import { parseLcov } from '../../src/detect/coverage-report.js';
import type { Sequence } from '../../src/model/sequence.js';
import { makeBeat, makeRun } from '../bench/faults/beats.js';

const index = parseLcov(['SF:src/a.js', 'FN:1,tested', 'FN:5,untested', 'FN:9,cold', 'FNDA:3,tested', 'FNDA:0,untested', 'FNDA:0,cold', 'end_of_record'].join('\n'));

function traffic(rows: Array<[string, number]>, service = 'api'): TrafficView {
  const total = rows.reduce((s, [, c]) => s + c, 0);
  return { handlers: () => rows.map(([handler, count]) => ({ service, handler, count, share: count / total })) };
}

const seq: Sequence = {
  id: 'P.flow',
  name: 'flow',
  movements: [{ name: 'm', beats: [ { beat: 1, event: 'e1', handler: 'first', testFile: 'test/first.test.js' }, { beat: 2, event: 'e2', handler: 'second', testFile: 'test/missing.test.js' }, { beat: 3, event: 'e3', handler: 'never' } ] }],
};

describe('CoverageDetector: untested handlers', () => {
  it('reports production handlers with no coverage, hottest first, severity by traffic share', () => {
    const det = new CoverageDetector(index, []);
    const found = det.evaluate(1000, traffic([['tested', 500], ['untested', 400], ['cold', 25], ['unknown', 75]]));
    expect(found.map((f) => f.key)).toEqual(['coverage:api:untested:untested-handler', 'coverage:api:cold:untested-handler']);
    const [hot, cold] = found;
    expect(hot!.type).toBe('coverage');
    expect(hot!.subtype).toBe('untested-handler');
    expect(hot!.severity).toBe('high');
    expect(hot!.observed.trafficShare).toBeCloseTo(0.4);
    expect(hot!.details.file).toBe('src/a.js');
    expect(hot!.details.line).toBe(5);
    expect(cold!.severity).toBe('low');
  });

  it('needs minCalls executions, and can restrict to the report repository services', () => {
    const det = new CoverageDetector(index, [], { minCalls: 100, services: ['api'] });
    expect(det.evaluate(0, traffic([['untested', 99]]))).toEqual([]);
    expect(det.evaluate(0, traffic([['untested', 100]]))).toHaveLength(1);
    expect(det.evaluate(0, traffic([['untested', 500]], 'other'))).toEqual([]);
  });

  it('treats handlers absent from the report as untested only when asked', () => {
    expect(new CoverageDetector(index, []).tested('absent')).toBeUndefined();
    const det = new CoverageDetector(index, [], { missingIsUntested: true });
    const [f] = det.evaluate(0, traffic([['absent', 50]]));
    expect(f!.details.evidence).toBe('absent-from-report');
    expect(f!.confidence).toBeLessThan(1);
  });

  it('counts an existing declared testFile as coverage evidence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cov-det-'));
    try {
      mkdirSync(join(dir, 'test'));
      writeFileSync(join(dir, 'test/first.test.js'), '');
      const det = new CoverageDetector(undefined, [seq], { repoRoot: dir });
      expect(det.tested('first')).toBe(true);
      expect(det.tested('second')).toBe(false);
      // No testFile declared and no report: no evidence either way.
      expect(det.tested('never')).toBeUndefined();
      expect(det.tested('undeclared')).toBeUndefined();
      const found = det.evaluate(0, traffic([['first', 50], ['second', 50], ['never', 50]]));
      expect(found.map((f) => f.handler)).toEqual(['second']);
      expect(found[0]!.details.evidence).toBe('declared-test-file-missing');
      expect(found[0]!.sequence).toBe('flow');
      // A testFile also overrides a report that missed the handler.
      const withReport = new CoverageDetector(parseLcov('SF:x\nFN:1,first\nFNDA:0,first\nend_of_record\n'), [seq], { repoRoot: dir });
      expect(withReport.tested('first')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CoverageDetector: unexecuted declared beats', () => {
  it('reports declared beats that never ran once the sequence had enough runs', () => {
    const det = new CoverageDetector(undefined, [seq], { minSequenceRuns: 10, fileExists: () => true });
    const none = traffic([]);
    for (let i = 0; i < 9; i++) for (const s of makeRun(`t${i}`, 'flow', ['first', 'second'], i * 100, { service: 'api' })) det.observe(s);
    expect(det.evaluate(1000, none)).toEqual([]);
    // Spans of the same trace do not count as more runs.
    det.observe(makeBeat({ traceId: 't0', sequence: 'flow', handler: 'first' }));
    expect(det.evaluate(1000, none)).toEqual([]);
    // A run known only by its root span name (or by the declared id) counts too.
    det.observe(makeBeat({ traceId: 'r1', parentSpanId: '', spanName: 'P.flow', handler: 'P.flow', service: 'api' }));
    const found = det.evaluate(2000, none);
    expect(found.map((f) => f.key)).toEqual(['coverage:api:never:unexecuted-beat']);
    expect(found[0]!.observed.sequenceRuns).toBe(10);
    expect(found[0]!.sequence).toBe('flow');
    det.observe(makeBeat({ traceId: 'late', sequence: 'flow', handler: 'never' }));
    expect(det.evaluate(3000, none)).toEqual([]);
  });

  it('counts a run once however its spans interleave with other runs', () => {
    const det = new CoverageDetector(undefined, [seq], { minSequenceRuns: 3, fileExists: () => true });
    for (const t of ['a', 'a', 'b', 'a', 'b', 'b']) det.observe(makeBeat({ traceId: t, sequence: 'flow', handler: 'first' }));
    // Two runs: below minSequenceRuns, so no unexecuted-beat yet.
    expect(det.evaluate(0, traffic([]))).toEqual([]);
    det.observe(makeBeat({ traceId: 'c', sequence: 'flow', handler: 'first' }));
    expect(det.evaluate(0, traffic([])).map((f) => f.observed.sequenceRuns)).toEqual([3, 3]);
  });

  it('keeps its trace memory bounded', () => {
    const det = new CoverageDetector(undefined, [seq], { minSequenceRuns: 5, maxTrackedTraces: 2, fileExists: () => true });
    for (const t of ['a', 'b', 'c', 'a', 'b']) det.observe(makeBeat({ traceId: t, sequence: 'flow', handler: 'first' }));
    // 'a' was forgotten, so it counts again: 5 runs.
    expect(det.evaluate(0, traffic([])).map((f) => f.handler)).toEqual(['second', 'never']);
  });
});

describe('severityForShare', () => {
  it('grows with traffic share', () => {
    expect([0.6, 0.3, 0.1, 0.01].map(severityForShare)).toEqual(['critical', 'high', 'medium', 'low']);
  });
});
