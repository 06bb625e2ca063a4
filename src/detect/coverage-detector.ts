import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Beat } from '../model/beat.js';
import type { Finding, Severity } from '../model/anomaly.js';
import type { Sequence } from '../model/sequence.js';
import { findCoverage, type CoverageIndex } from './coverage-report.js';

/**
 * Coverage detection: production traffic joined with test coverage. A handler that runs in
 * production but no test executes is 'untested-handler' (the more traffic it takes, the more
 * severe); a declared beat that production never executes, although its sequence has run often
 * enough, is 'unexecuted-beat'.
 */
export interface TrafficView {
  handlers(): Array<{ service: string; handler: string; count: number; share: number }>;
}

export interface CoverageDetectorOptions {
  /** Production executions in the traffic window before a handler is judged. */
  minCalls: number;
  /** Runs of a declared sequence before its never-executed beats are reported. */
  minSequenceRuns: number;
  /** Judge handlers the report does not mention as untested (off: they may live in another repo). */
  missingIsUntested: boolean;
  /** Only these services are judged for untested handlers (the report's repository); all if empty. */
  services: string[];
  /** Declared `testFile` paths are relative to this (default: current directory). */
  repoRoot: string;
  /** Existence check for declared test files; called once per file, at construction. */
  fileExists: (absPath: string) => boolean;
  /** Distinct (sequence, trace) pairs remembered to count runs; bounded. */
  maxTrackedTraces: number;
  maxHandlers: number;
}

interface DeclaredBeatInfo {
  sequence: string;
  handler: string;
  /** A declared testFile exists. */
  hasTest: boolean;
  /** A testFile is declared but does not exist. */
  testMissing: boolean;
}

export function severityForShare(share: number): Severity {
  if (share >= 0.5) return 'critical';
  if (share >= 0.2) return 'high';
  if (share >= 0.05) return 'medium';
  return 'low';
}

export class CoverageDetector {
  private readonly opts: CoverageDetectorOptions;
  private readonly declaredBeats = new Map<string, DeclaredBeatInfo>();
  private readonly sequenceNames = new Map<string, string>();
  private readonly sequenceRuns = new Map<string, { runs: number; service: string; firstMs: number }>();
  private readonly seenTraces = new Set<string>();
  // Insertion ring bounding seenTraces (cheaper than deleting a Set's first entry each time).
  private readonly seenRing: string[] = [];
  private seenPos = 0;
  private readonly executed = new Set<string>();
  // The spans of one run usually arrive together: skip the trace lookup for them.
  private lastTrace = '';

  constructor(private readonly index: CoverageIndex | undefined, declared: Sequence[], opts: Partial<CoverageDetectorOptions> = {}) {
    this.opts = {
      minCalls: 20,
      minSequenceRuns: 50,
      missingIsUntested: false,
      services: [],
      repoRoot: process.cwd(),
      fileExists: existsSync,
      maxTrackedTraces: 8192,
      maxHandlers: 10_000,
      ...opts,
    };
    for (const seq of declared) {
      this.sequenceNames.set(seq.name, seq.name);
      this.sequenceNames.set(seq.id, seq.name);
      for (const movement of seq.movements) {
        for (const beat of movement.beats) {
          const hasTest = beat.testFile !== undefined && this.opts.fileExists(resolve(this.opts.repoRoot, beat.testFile));
          const testMissing = beat.testFile !== undefined && !hasTest;
          const prev = this.declaredBeats.get(beat.handler);
          this.declaredBeats.set(beat.handler, {
            sequence: prev?.sequence ?? seq.name,
            handler: beat.handler,
            hasTest: hasTest || (prev?.hasTest ?? false),
            testMissing: testMissing || (prev?.testMissing ?? false),
          });
        }
      }
    }
  }

  observe(beat: Beat): void {
    if (this.executed.size < this.opts.maxHandlers) this.executed.add(beat.handler);
    const name = beat.sequence !== '' ? beat.sequence : beat.parentSpanId === '' ? beat.spanName : '';
    const seq = name === '' ? undefined : this.sequenceNames.get(name);
    if (seq === undefined || beat.traceId === this.lastTrace) return;
    this.lastTrace = beat.traceId;
    // One trace is one sequence run: keyed by the trace id alone (no key string to build).
    const key = beat.traceId;
    if (this.seenTraces.has(key)) return;
    this.seenTraces.add(key);
    if (this.seenRing.length < this.opts.maxTrackedTraces) this.seenRing.push(key);
    else {
      this.seenTraces.delete(this.seenRing[this.seenPos]!);
      this.seenRing[this.seenPos] = key;
      this.seenPos = (this.seenPos + 1) % this.opts.maxTrackedTraces;
    }
    const s = this.sequenceRuns.get(seq);
    if (s === undefined) this.sequenceRuns.set(seq, { runs: 1, service: beat.service, firstMs: beat.startMs });
    else {
      s.runs++;
      s.service = beat.service;
    }
  }

  /** true: tested; false: known untested; undefined: no evidence either way. */
  tested(handler: string): boolean | undefined {
    const declared = this.declaredBeats.get(handler);
    if (declared?.hasTest) return true;
    if (this.index !== undefined) {
      const entry = findCoverage(this.index, handler);
      if (entry !== undefined) return entry.covered;
      if (this.opts.missingIsUntested) return false;
    }
    // A declared test file that does not exist is evidence of no test; no declaration is none.
    return declared?.testMissing ? false : undefined;
  }

  evaluate(nowMs: number, traffic: TrafficView): Finding[] {
    const out: Finding[] = [];
    const services = this.opts.services;
    const rows = traffic.handlers().slice().sort((a, b) => b.share - a.share);
    for (const row of rows) {
      if (row.count < this.opts.minCalls) continue;
      if (services.length > 0 && !services.includes(row.service)) continue;
      if (this.tested(row.handler) !== false) continue;
      out.push(this.untested(nowMs, row));
    }
    for (const info of this.declaredBeats.values()) {
      const runs = this.sequenceRuns.get(info.sequence);
      if (runs === undefined || runs.runs < this.opts.minSequenceRuns || this.executed.has(info.handler)) continue;
      out.push({
        key: `coverage:${runs.service}:${info.handler}:unexecuted-beat`,
        type: 'coverage',
        subtype: 'unexecuted-beat',
        severity: 'low',
        confidence: Math.min(1, runs.runs / (4 * this.opts.minSequenceRuns)),
        service: runs.service,
        handler: info.handler,
        sequence: info.sequence,
        windowStartMs: runs.firstMs,
        windowEndMs: nowMs,
        summary: `${info.sequence}: declared beat ${info.handler} never ran in ${runs.runs} production runs`,
        observed: { executions: 0, sequenceRuns: runs.runs },
        expected: { executions: runs.runs },
        details: { sequence: info.sequence, handler: info.handler },
        exemplars: [],
      });
    }
    return out;
  }

  private untested(nowMs: number, row: { service: string; handler: string; count: number; share: number }): Finding {
    const entry = this.index === undefined ? undefined : findCoverage(this.index, row.handler);
    const declared = this.declaredBeats.get(row.handler);
    const details: Finding['details'] = {
      handler: row.handler,
      evidence: entry !== undefined ? 'coverage-report' : declared?.testMissing ? 'declared-test-file-missing' : 'absent-from-report',
    };
    if (entry !== undefined) {
      details.file = entry.file;
      details.line = entry.line;
    }
    const f: Finding = {
      key: `coverage:${row.service}:${row.handler}:untested-handler`,
      type: 'coverage',
      subtype: 'untested-handler',
      severity: severityForShare(row.share),
      confidence: Math.min(1, row.count / (4 * this.opts.minCalls)) * (entry !== undefined ? 1 : 0.7),
      service: row.service,
      handler: row.handler,
      windowStartMs: nowMs,
      windowEndMs: nowMs,
      summary: `${row.handler} takes ${(row.share * 100).toFixed(1)}% of ${row.service} traffic and no test executes it`,
      observed: { trafficShare: row.share, calls: row.count, testHits: 0 },
      expected: { testHits: 1 },
      details,
      exemplars: [],
    };
    if (declared !== undefined) f.sequence = declared.sequence;
    return f;
  }
}
