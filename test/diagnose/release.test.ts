import { describe, expect, it } from 'vitest';
import { releaseHypothesis } from '../../src/diagnose/release.js';
import { anomaly, beat, FakeEvidence } from './fixtures.js';

describe('releaseHypothesis', () => {
  const a = anomaly({ windowStartMs: 10_000_000, windowEndMs: 10_060_000 });

  it('correlates a version first seen just before the window', () => {
    const ev = new FakeEvidence();
    ev.versionList = [
      { version: '1.1.0', firstSeenMs: 9_990_000, lastSeenMs: 10_060_000 },
      { version: '1.0.0', firstSeenMs: 1_000_000, lastSeenMs: 10_000_000 },
    ];
    const bad = [beat({ serviceVersion: '1.1.0' }), beat({ serviceVersion: '1.1.0' })];
    const good = [beat({ serviceVersion: '1.0.0' }), beat({ serviceVersion: '1.0.0' })];
    const r = releaseHypothesis(a, ev, bad, good);
    expect(r.previousVersion).toBe('1.0.0');
    expect(r.newVersion).toBe('1.1.0');
    expect(r.hypothesis?.cause).toBe('new-release');
    expect(r.hypothesis!.score).toBeGreaterThan(0.7);
    expect(r.hypothesis!.evidence.join('\n')).toContain('100% of anomalous beats ran 1.1.0 vs 0% of normal beats');
    expect(r.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
  });

  it('is near-certain in a partial rollout where the anomalous beats crowd onto the new version', () => {
    const ev = new FakeEvidence();
    ev.versionList = [
      { version: '1.0.0', firstSeenMs: 1_000_000, lastSeenMs: 10_060_000 },
      { version: '1.1.0', firstSeenMs: 9_990_000, lastSeenMs: 10_060_000 },
    ];
    const onNew = (n: number) => Array.from({ length: n }, () => beat({ serviceVersion: '1.1.0' }));
    const onOld = (n: number) => Array.from({ length: n }, () => beat({ serviceVersion: '1.0.0' }));
    const anomalous = [...onNew(8), ...onOld(2)];
    const recent = [...onNew(25), ...onOld(75)];
    const r = releaseHypothesis(a, ev, anomalous, onOld(70), undefined, recent);
    expect(r.hypothesis!.score).toBeGreaterThan(0.9);
    expect(r.hypothesis!.evidence.join('\n')).toContain('both versions run side by side (25% of recent beats on 1.1.0); anomalous beats are 3.2x over-represented on it');
    // A full rollout gives no side-by-side comparison: the ordinary score applies.
    const full = releaseHypothesis(a, ev, anomalous, onOld(70), undefined, onNew(100));
    expect(full.hypothesis!.score).toBeLessThan(0.9);
  });

  it('scores lower when the release is old or the beats do not differ', () => {
    const ev = new FakeEvidence();
    ev.versionList = [
      { version: '1.0.0', firstSeenMs: 1_000_000, lastSeenMs: 2 },
      { version: '1.1.0', firstSeenMs: 10_000_000 - 25 * 60_000, lastSeenMs: 3 },
    ];
    const r = releaseHypothesis(a, ev, [], []);
    expect(r.hypothesis!.score).toBeLessThan(0.5);
    expect(r.hypothesis!.evidence).toHaveLength(1);
    const inside = new FakeEvidence();
    inside.versionList = [
      { version: '1', firstSeenMs: 0, lastSeenMs: 0 },
      { version: '2', firstSeenMs: 10_030_000, lastSeenMs: 0 },
    ];
    expect(releaseHypothesis(a, inside, [], []).hypothesis!.evidence[0]).toContain('30 s into');
  });

  it('finds nothing for a single version or a release long before', () => {
    const ev = new FakeEvidence();
    ev.versionList = [{ version: '1.0.0', firstSeenMs: 9_999_000, lastSeenMs: 0 }];
    expect(releaseHypothesis(a, ev, [], []).hypothesis).toBeUndefined();
    ev.versionList = [
      { version: '1.0.0', firstSeenMs: 1_000, lastSeenMs: 0 },
      { version: '2.0.0', firstSeenMs: 2_000, lastSeenMs: 0 },
    ];
    const r = releaseHypothesis(a, ev, [], []);
    expect(r.hypothesis).toBeUndefined();
    expect(r.newVersion).toBeUndefined();
  });
});
