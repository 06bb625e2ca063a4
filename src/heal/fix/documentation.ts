import { glob } from 'tinyglobby';
import type { Beat } from '../../model/beat.js';
import { STATUS_ERROR } from '../../model/beat.js';
import { EditSession, finishEdits } from './edit-session.js';
import { bareHandlerName, readFixFacts, type Figures } from './facts.js';
import { tableCells } from './syntax-check.js';
import { markdownInline } from '../text/markdown.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';

export const DOC_GLOBS = ['docs/**/*.md', 'README.md'];
export const PERFORMANCE_DOC = 'docs/performance.md';

export interface LiveFigures {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errorRate: number;
  samples: number;
}

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Percentiles (nearest rank) and error rate of the handler's beats; undefined without beats. */
export function figuresFromBeats(beats: Beat[], handler: string): LiveFigures | undefined {
  const own = beats.filter((b) => bareHandlerName(b.handler) === handler);
  if (own.length === 0) return undefined;
  const durations = own.map((b) => b.durationMs).sort((a, b) => a - b);
  return {
    p50Ms: nearestRank(durations, 0.5),
    p95Ms: nearestRank(durations, 0.95),
    p99Ms: nearestRank(durations, 0.99),
    errorRate: own.filter((b) => b.status === STATUS_ERROR).length / own.length,
    samples: own.length,
  };
}

function complete(f: Figures): LiveFigures | undefined {
  if (f.p50Ms === undefined || f.p95Ms === undefined || f.p99Ms === undefined) return undefined;
  return { p50Ms: f.p50Ms, p95Ms: f.p95Ms, p99Ms: f.p99Ms, errorRate: f.errorRate ?? 0, samples: 0 };
}

function trim(n: number, digits: number): string {
  return String(Number(n.toFixed(digits)));
}

export function formatMs(ms: number): string {
  return `${ms >= 10 ? trim(ms, 0) : trim(ms, 1)} ms`;
}

export function formatRate(rate: number): string {
  return `${trim(rate * 100, rate * 100 >= 10 ? 0 : 1)} %`;
}

type Metric = 'p50' | 'p95' | 'p99' | 'error';

function metricOf(cell: string): Metric | undefined {
  const c = cell.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (c.startsWith('p50') || c === 'median') return 'p50';
  if (c.startsWith('p95')) return 'p95';
  if (c.startsWith('p99')) return 'p99';
  if (c.startsWith('error')) return 'error';
  return undefined;
}

function valueOf(metric: Metric, f: LiveFigures): string {
  return metric === 'p50' ? formatMs(f.p50Ms) : metric === 'p95' ? formatMs(f.p95Ms) : metric === 'p99' ? formatMs(f.p99Ms) : formatRate(f.errorRate);
}

const row = (cells: string[]): string => `| ${cells.join(' | ')} |`;
const isTableLine = (line: string | undefined): boolean => line !== undefined && line.trim().startsWith('|');
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;

function headingMatches(title: string, handler: string): boolean {
  // The handler name comes from telemetry: match it literally, never as a pattern.
  const escaped = handler.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_])${escaped}([^A-Za-z0-9_]|$)`).test(title.replace(/`/g, ''));
}

/**
 * Rewrites the performance figures of `handler` in one Markdown text. Two table layouts are
 * understood: metric rows ("| p95 | 6 ms |") inside the handler's section, and metric columns
 * ("| Handler | p50 | p95 | ...") with a row naming the handler anywhere. Returns undefined when the
 * text documents no figures for the handler.
 */
export function updatePerformanceTables(text: string, handler: string, f: LiveFigures): string | undefined {
  const lines = text.split('\n');
  let changed = false;
  let section: number | undefined; // heading level of the handler's section, while inside it
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = HEADING.exec(line);
    if (heading !== null) {
      const level = heading[1]!.length;
      if (section !== undefined && level <= section) section = undefined;
      if (headingMatches(heading[2]!, handler)) section = level;
      continue;
    }
    if (!isTableLine(line) || !isTableLine(lines[i + 1]) || !/^\s*\|?\s*:?-/.test(lines[i + 1]!)) continue;
    const header = tableCells(line);
    const columnMetrics = header.map(metricOf);
    let j = i + 2;
    for (; isTableLine(lines[j]); j++) {
      const cells = tableCells(lines[j]!);
      if (columnMetrics.some((m) => m !== undefined)) {
        const named = cells.some((c) => headingMatches(c, handler));
        if (!named && section === undefined) continue;
        if (!named && j !== i + 2) continue;
        const next = cells.map((c, k) => (columnMetrics[k] === undefined ? c : valueOf(columnMetrics[k], f)));
        lines[j] = row(next);
        changed = true;
      } else if (section !== undefined && cells.length >= 2) {
        const metric = metricOf(cells[0]!);
        if (metric === undefined) continue;
        cells[1] = valueOf(metric, f);
        lines[j] = row(cells);
        changed = true;
      }
    }
    i = j - 1;
  }
  return changed ? lines.join('\n') : undefined;
}

export function performanceSection(handler: string, f: LiveFigures, level: number): string {
  return [
    // The handler name is telemetry: as a code span it cannot add HTML, links or headings.
    `${'#'.repeat(level)} ${markdownInline(handler)}`,
    '',
    '| Metric | Value |',
    '| --- | --- |',
    `| p50 | ${formatMs(f.p50Ms)} |`,
    `| p95 | ${formatMs(f.p95Ms)} |`,
    `| p99 | ${formatMs(f.p99Ms)} |`,
    `| Error rate | ${formatRate(f.errorRate)} |`,
    '',
  ].join('\n');
}

/** Anomaly types a documentation update may answer: neither latency (performance) nor errors. */
export function isDocumentable(type: FixContext['anomaly']['type']): boolean {
  return type !== 'performance' && type !== 'error';
}

/** Regenerates the handler's documented performance figures from live beats (or the diagnosis' observed figures). */
export class DocumentationStrategy implements FixStrategy {
  readonly kind = 'documentation' as const;

  private figures(ctx: FixContext, handler: string): LiveFigures | undefined {
    return figuresFromBeats(ctx.beats, handler) ?? complete(readFixFacts(ctx.diagnosis, ctx.anomaly).observed);
  }

  applicable(ctx: FixContext): boolean {
    if (!ctx.diagnosis.recommendedFixes.includes('documentation')) return false;
    // Rewriting the documented figures does not make a slow or failing handler any better: it is
    // never offered as the fix of a latency or error anomaly.
    if (!isDocumentable(ctx.anomaly.type)) return false;
    const handler = readFixFacts(ctx.diagnosis, ctx.anomaly).handler;
    return handler !== undefined && this.figures(ctx, bareHandlerName(handler)) !== undefined;
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const name = readFixFacts(ctx.diagnosis, ctx.anomaly).handler;
    if (name === undefined) return undefined;
    const handler = bareHandlerName(name);
    const figures = this.figures(ctx, handler);
    if (figures === undefined) return undefined;
    const session = new EditSession(ctx.repoDir);
    const updated: string[] = [];
    for (const file of (await glob(DOC_GLOBS, { cwd: ctx.repoDir, onlyFiles: true, ignore: ['**/node_modules/**'] })).sort()) {
      const text = await session.read(file);
      const next = updatePerformanceTables(text, handler, figures);
      if (next === undefined || next === text) continue;
      await session.write(file, next);
      updated.push(file);
    }
    if (updated.length === 0) {
      const existing = session.exists(PERFORMANCE_DOC) ? await session.read(PERFORMANCE_DOC) : '# Performance\n';
      await session.write(PERFORMANCE_DOC, existing.replace(/\n*$/, '\n\n') + performanceSection(handler, figures, 2));
      updated.push(PERFORMANCE_DOC);
    }
    const source = figures.samples > 0 ? `${String(figures.samples)} production beats` : 'the diagnosis figures';
    return finishEdits(session, {
      kind: this.kind,
      title: `Update documented performance of ${markdownInline(handler)}`,
      description: `p50 ${formatMs(figures.p50Ms)}, p95 ${formatMs(figures.p95Ms)}, p99 ${formatMs(figures.p99Ms)}, error rate ${formatRate(figures.errorRate)} from ${source}; updated ${updated.map((f) => markdownInline(f)).join(', ')}.`,
      claims: {},
    });
  }
}
