import type { DemoFault } from './app-runner.js';
import type { AnomalyInfo, LoopEvent } from './narrator.js';

/** The anomaly each injected fault should produce: the handler it hits and the anomaly type. */
export const FAULT_TARGETS: Record<DemoFault, { handler: string; type: string }> = {
  latency: { handler: 'resolveTemplate', type: 'performance' },
  exception: { handler: 'createComponent', type: 'error' },
};

/** Steps of one healing loop, in order. */
export const LOOP_STEPS = ['detected', 'diagnosed', 'fixed', 'validated', 'merged', 'deployed', 'learned'] as const;
export type LoopStep = (typeof LOOP_STEPS)[number];

interface Loop {
  anomalyId: string;
  fault: DemoFault | undefined;
  steps: Set<LoopStep>;
  stopped: boolean;
  verdict?: string;
  mergeSha?: string;
}

const STEP_OF: Partial<Record<LoopEvent['kind'], LoopStep>> = {
  opened: 'detected',
  diagnosed: 'diagnosed',
  fixed: 'fixed',
  validated: 'validated',
  merged: 'merged',
  learned: 'learned',
};

/** How long --once waits for the latency loop after the exception loop completed. */
export const LATENCY_GRACE_MS = 20_000;

/**
 * Follows every healing loop of the demo and decides when `--once` is done: the exception fault's
 * loop has gone all the way (detected ... merged, deployed, learned) and the latency fault's loop
 * has either finished too or had LATENCY_GRACE_MS more to do so.
 */
export class DemoProgress {
  private readonly loops = new Map<string, Loop>();
  private readonly injected = new Set<DemoFault>();
  private exceptionDoneMs: number | undefined;

  faultInjected(fault: DemoFault): void {
    this.injected.add(fault);
  }

  /** Which fault an anomaly belongs to, if any (only once that fault was injected). */
  faultOf(anomaly: AnomalyInfo | undefined): DemoFault | undefined {
    if (!anomaly) return undefined;
    for (const fault of this.injected) {
      const t = FAULT_TARGETS[fault];
      if (anomaly.handler === t.handler && anomaly.type === t.type) return fault;
    }
    return undefined;
  }

  record(event: LoopEvent, anomaly: AnomalyInfo | undefined, nowMs = Date.now()): void {
    let loop = this.loops.get(event.anomalyId);
    if (!loop) {
      loop = { anomalyId: event.anomalyId, fault: this.faultOf(anomaly), steps: new Set(), stopped: false };
      this.loops.set(event.anomalyId, loop);
    }
    const step = STEP_OF[event.kind];
    if (step) loop.steps.add(step);
    if (event.kind === 'stopped') loop.stopped = true;
    if (event.mergeSha) loop.mergeSha = event.mergeSha;
    if (event.verdict) loop.verdict = event.verdict;
    this.noteCompletion(nowMs);
  }

  /** The app runs the merge of this anomaly's fix. */
  deployed(anomalyId: string, nowMs = Date.now()): void {
    this.loops.get(anomalyId)?.steps.add('deployed');
    this.noteCompletion(nowMs);
  }

  private noteCompletion(nowMs: number): void {
    if (this.exceptionDoneMs === undefined && this.completeLoop('exception')) this.exceptionDoneMs = nowMs;
  }

  private loopsOf(fault: DemoFault): Loop[] {
    return [...this.loops.values()].filter((l) => l.fault === fault);
  }

  private completeLoop(fault: DemoFault): Loop | undefined {
    return this.loopsOf(fault).find((l) => LOOP_STEPS.every((s) => l.steps.has(s)));
  }

  /** True when the exception fault's loop went all the way. */
  complete(): boolean {
    return this.completeLoop('exception') !== undefined;
  }

  /** For `--once`: the result when the demo should stop now, otherwise undefined. */
  verdict(once: boolean, nowMs: number): { completed: boolean; message: string } | undefined {
    if (!once || this.exceptionDoneMs === undefined) return undefined;
    const latency = this.loopsOf('latency');
    const latencySettled = latency.length > 0 && latency.every((l) => l.stopped || l.steps.has('learned'));
    if (!latencySettled && nowMs - this.exceptionDoneMs < LATENCY_GRACE_MS) return undefined;
    return { completed: true, message: this.describe() };
  }

  /** One clause per fault: how far its furthest loop got. */
  describe(): string {
    const parts: string[] = [];
    for (const fault of ['latency', 'exception'] as const) {
      if (!this.injected.has(fault)) {
        parts.push(`${fault}: not injected yet`);
        continue;
      }
      const loops = this.loopsOf(fault);
      if (loops.length === 0) {
        parts.push(`${fault}: not detected`);
        continue;
      }
      const best = loops.reduce((a, b) => (reached(b) > reached(a) ? b : a));
      const last = LOOP_STEPS[reached(best) - 1] ?? 'nothing';
      const extra = [best.mergeSha ? `merge ${best.mergeSha.slice(0, 10)}` : '', best.verdict ? `verdict ${best.verdict}` : '', best.stopped ? 'healing stopped' : '']
        .filter(Boolean)
        .join(', ');
      parts.push(`${fault}: ${reached(best) === LOOP_STEPS.length ? 'full loop' : `reached ${last}`}${extra ? ` (${extra})` : ''}`);
    }
    return parts.join('; ');
  }
}

/** Number of leading loop steps done. */
function reached(loop: Loop): number {
  let n = 0;
  while (n < LOOP_STEPS.length && loop.steps.has(LOOP_STEPS[n]!)) n++;
  return n;
}
