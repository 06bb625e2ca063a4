import { describe, expect, it } from 'vitest';
import { DemoProgress, LATENCY_GRACE_MS } from '../../src/demo/demo-progress.js';
import type { AnomalyInfo, LoopEvent } from '../../src/demo/narrator.js';

const info = (id: string, handler: string, type: string): AnomalyInfo => ({
  id,
  type,
  subtype: 'x',
  severity: 'high',
  service: 'canvas-app',
  handler,
  summary: '',
});
const EXC = info('an_exc', 'createComponent', 'error');
const LAT = info('an_lat', 'resolveTemplate', 'performance');

function fullLoop(p: DemoProgress, a: AnomalyInfo, now: number, verdict = 'improved'): void {
  const steps: LoopEvent['kind'][] = ['opened', 'diagnosed', 'fixed', 'validated'];
  for (const kind of steps) p.record({ anomalyId: a.id, kind }, a, now);
  p.record({ anomalyId: a.id, kind: 'merged', mergeSha: 'abcdef0123456' }, a, now);
  p.deployed(a.id, now);
  p.record({ anomalyId: a.id, kind: 'learned', verdict }, a, now);
}

describe('DemoProgress', () => {
  it('ties anomalies to the faults injected before them', () => {
    const p = new DemoProgress();
    expect(p.faultOf(EXC)).toBeUndefined();
    p.faultInjected('exception');
    expect(p.faultOf(EXC)).toBe('exception');
    expect(p.faultOf(LAT)).toBeUndefined();
    expect(p.faultOf(info('x', 'createComponent', 'performance'))).toBeUndefined();
    expect(p.faultOf(undefined)).toBeUndefined();
  });

  it('is complete only when the exception loop went through every step, deploy included', () => {
    const p = new DemoProgress();
    p.faultInjected('exception');
    for (const kind of ['opened', 'diagnosed', 'fixed', 'validated', 'learned'] as const) p.record({ anomalyId: EXC.id, kind }, EXC, 0);
    p.record({ anomalyId: EXC.id, kind: 'merged', mergeSha: 'abc' }, EXC, 0);
    expect(p.complete()).toBe(false);
    p.deployed(EXC.id, 0);
    expect(p.complete()).toBe(true);
  });

  it('with --once, ends when both loops finished', () => {
    const p = new DemoProgress();
    p.faultInjected('latency');
    p.faultInjected('exception');
    fullLoop(p, LAT, 1_000);
    expect(p.verdict(true, 1_000)).toBeUndefined();
    fullLoop(p, EXC, 2_000);
    const v = p.verdict(true, 2_000);
    expect(v?.completed).toBe(true);
    expect(v?.message).toBe('latency: full loop (merge abcdef0123, verdict improved); exception: full loop (merge abcdef0123, verdict improved)');
    expect(p.verdict(false, 2_000)).toBeUndefined();
  });

  it('gives a still-running latency loop a grace period after the exception loop, then ends anyway', () => {
    const p = new DemoProgress();
    p.faultInjected('latency');
    p.faultInjected('exception');
    p.record({ anomalyId: LAT.id, kind: 'opened' }, LAT, 0);
    p.record({ anomalyId: LAT.id, kind: 'diagnosed' }, LAT, 0);
    fullLoop(p, EXC, 10_000);
    expect(p.verdict(true, 10_000 + LATENCY_GRACE_MS - 1)).toBeUndefined();
    const v = p.verdict(true, 10_000 + LATENCY_GRACE_MS);
    expect(v).toEqual({ completed: true, message: 'latency: reached diagnosed; exception: full loop (merge abcdef0123, verdict improved)' });
  });

  it('a stopped latency loop counts as settled', () => {
    const p = new DemoProgress();
    p.faultInjected('latency');
    p.faultInjected('exception');
    p.record({ anomalyId: LAT.id, kind: 'opened' }, LAT, 0);
    p.record({ anomalyId: LAT.id, kind: 'stopped' }, LAT, 0);
    fullLoop(p, EXC, 5_000);
    expect(p.verdict(true, 5_000)?.message).toContain('latency: reached detected (healing stopped)');
  });

  it('the best of several anomalies of one fault counts', () => {
    const p = new DemoProgress();
    p.faultInjected('exception');
    const spike = info('an_spike', 'createComponent', 'error');
    p.record({ anomalyId: spike.id, kind: 'opened' }, spike, 0);
    p.record({ anomalyId: spike.id, kind: 'stopped' }, spike, 0);
    fullLoop(p, EXC, 0);
    expect(p.complete()).toBe(true);
    expect(p.describe()).toContain('exception: full loop');
  });

  it('describes what was not reached, for the deadline message', () => {
    const p = new DemoProgress();
    expect(p.describe()).toBe('latency: not injected yet; exception: not injected yet');
    p.faultInjected('latency');
    p.faultInjected('exception');
    expect(p.describe()).toBe('latency: not detected; exception: not detected');
    p.record({ anomalyId: EXC.id, kind: 'diagnosed' }, EXC, 0);
    expect(p.describe()).toBe('latency: not detected; exception: reached nothing');
    // Anomalies of other handlers are followed but belong to no fault.
    const other = info('an_o', 'notifyUi', 'coverage');
    fullLoop(p, other, 0);
    expect(p.complete()).toBe(false);
    p.deployed('unknown-anomaly', 0);
    expect(p.complete()).toBe(false);
  });
});
