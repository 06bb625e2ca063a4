import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DocumentationStrategy,
  figuresFromBeats,
  formatMs,
  formatRate,
  performanceSection,
  updatePerformanceTables,
} from '../../../src/heal/fix/documentation.js';
import { checkMarkdown } from '../../../src/heal/fix/syntax-check.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';
import { beat, gitStatus, nullAccessContext, sh, withClone } from './fix-context.js';

const figures = { p50Ms: 12.34, p95Ms: 48.6, p99Ms: 120, errorRate: 0.025, samples: 40 };

describe('figures and formatting', () => {
  it('computes nearest-rank percentiles and the error rate of the handler only', () => {
    const beats = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => beat('h', {}, { durationMs: d, status: d === 10 ? 2 : 1 }));
    beats.push(beat('other', {}, { durationMs: 1000 }));
    expect(figuresFromBeats(beats, 'h')).toEqual({ p50Ms: 5, p95Ms: 10, p99Ms: 10, errorRate: 0.1, samples: 10 });
    expect(figuresFromBeats(beats, 'none')).toBeUndefined();
  });

  it('formats milliseconds and rates', () => {
    expect([formatMs(12.34), formatMs(4.56), formatMs(0.2)]).toEqual(['12 ms', '4.6 ms', '0.2 ms']);
    expect([formatRate(0.025), formatRate(0), formatRate(0.5)]).toEqual(['2.5 %', '0 %', '50 %']);
  });
});

describe('updatePerformanceTables', () => {
  it('rewrites metric rows inside the handler section only', () => {
    const doc = '# H\n\n## a\n\n| Metric | Value |\n| --- | --- |\n| p95 | 1 ms |\n\n## b\n\n### Performance\n\n| Metric | Value |\n| --- | --- |\n| p50 | 1 ms |\n| p95 | 2 ms |\n| Samples | 3 |\n\n## c\n';
    const out = updatePerformanceTables(doc, 'b', figures);
    expect(out).toBe(doc.replace('| p50 | 1 ms |', '| p50 | 12 ms |').replace('| p95 | 2 ms |', '| p95 | 49 ms |'));
    expect(checkMarkdown('d.md', out!)).toEqual([]);
    expect(updatePerformanceTables(doc, 'zzz', figures)).toBeUndefined();
  });

  it('rewrites the row naming the handler in a table with metric columns, ignoring fenced code', () => {
    const doc = '# Perf\n\n```\n| handler | p50 |\n| --- | --- |\n| `b` | 1 |\n```\n\n| Handler | p50 | p95 | p99 | Errors |\n|---|---|---|---|---|\n| `a` | 1 | 2 | 3 | 0 % |\n| `b` | 1 | 2 | 3 | 0 % |\n';
    const out = updatePerformanceTables(doc, 'b', figures)!;
    expect(out).toContain('| `b` | 12 ms | 49 ms | 120 ms | 2.5 % |');
    expect(out).toContain('| `a` | 1 | 2 | 3 | 0 % |');
    expect(out).toContain('```\n| handler | p50 |\n| --- | --- |\n| `b` | 1 |\n```');
  });

  it('renders a new section that passes the Markdown check', () => {
    expect(checkMarkdown('p.md', '# Performance\n\n' + performanceSection('h', figures, 2))).toEqual([]);
  });
});

describe('DocumentationStrategy on the fixture repository', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('updates the handler table in docs/handlers.md from live beats', async () => {
    repo = await createFixtureRepo();
    const errorCtx = nullAccessContext(repo.dir);
    const strategy = new DocumentationStrategy();
    // Never the fix of an error or latency anomaly; a behavioural one may get its figures refreshed.
    expect(strategy.applicable(errorCtx)).toBe(false);
    expect(strategy.applicable({ ...errorCtx, anomaly: { ...errorCtx.anomaly, type: 'performance' } })).toBe(false);
    const ctx = { ...errorCtx, anomaly: { ...errorCtx.anomaly, type: 'behavioral' as const } };
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.files).toEqual(['docs/handlers.md']);
    const changed = fix!.diff.split('\n').filter((l) => /^[+-]\|/.test(l));
    expect(changed).toEqual(['-| p95 | 2 ms |', '-| p99 | 3 ms |', '-| Error rate | 0 % |', '+| p95 | 1 ms |', '+| p99 | 1 ms |', '+| Error rate | 67 % |']);
    expect(fix?.description).toContain('3 production beats');
    expect(await gitStatus(repo.dir)).toBe('');
  });

  it('creates docs/performance.md from the diagnosis figures when no doc mentions the handler', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const ctx = {
      ...base,
      beats: [],
      diagnosis: { ...base.diagnosis, handler: 'mountCanvas', context: { handler: 'mountCanvas', observed: { p50Ms: 3, p95Ms: 7, p99Ms: 9, errorRate: 0 } } },
    };
    const fix = await new DocumentationStrategy().generate(ctx);
    expect(fix?.files).toEqual(['docs/performance.md']);
    await withClone(repo.dir, async (dir) => {
      await sh(dir, 'git', ['apply', '-'], fix!.diff);
      expect(await readFile(join(dir, 'docs/performance.md'), 'utf8')).toBe('# Performance\n\n' + performanceSection('mountCanvas', { p50Ms: 3, p95Ms: 7, p99Ms: 9, errorRate: 0, samples: 0 }, 2));
    });
    expect(new DocumentationStrategy().applicable({ ...ctx, diagnosis: { ...ctx.diagnosis, context: { handler: 'mountCanvas' } }, anomaly: { ...ctx.anomaly, type: 'behavioral', observed: {} } })).toBe(false);
  });

  it('writes a hostile handler name only as a code span', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const hostile = 'checkout\n\n<img src=x onerror=alert(1)>\n\n# SECURITY NOTICE [paste your token](https://evil.example)\u202E';
    const ctx = {
      ...base,
      beats: [],
      anomaly: { ...base.anomaly, type: 'behavioral' as const },
      diagnosis: { ...base.diagnosis, handler: hostile, context: { handler: hostile, observed: { p50Ms: 3, p95Ms: 7, p99Ms: 9, errorRate: 0 } } },
    };
    const fix = await new DocumentationStrategy().generate(ctx);
    expect(fix?.files).toEqual(['docs/performance.md']);
    // bareHandlerName keeps the last dotted part; what remains is still shown only as a code span.
    const added = fix!.diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(added.join('\n')).not.toMatch(/<img|\]\(|\u202e/i);
    expect(added.filter((l) => /^\+#/.test(l))).toEqual(['+# Performance', '+## ` example) `']);
    expect(fix!.title).not.toContain('\n');
  });
});

describe('handler names from telemetry', () => {
  it('are matched literally: a pattern-like name neither matches other headings nor hangs', () => {
    const text = '# Handlers\n\n## resolveTemplate\n\n| p50 | p95 |\n| --- | --- |\n| 1 ms | 2 ms |\n';
    const figures = { p50Ms: 1, p95Ms: 2, p99Ms: 3, errorRate: 0, samples: 10 };
    expect(updatePerformanceTables(text, '([^@]*[^@]*)*@', figures)).toBeUndefined();
    expect(updatePerformanceTables(text, 'resolve.emplate', figures)).toBeUndefined();
  });
});
