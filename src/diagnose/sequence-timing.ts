import type { Anomaly } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Hypothesis } from '../model/diagnosis.js';
import type { EvidenceSource } from '../model/evidence.js';
import { median, round } from './beat-stats.js';

const MIN_GROWTH_MS = 0.5;
const MIN_GROWTH_RATIO = 0.25;

export interface SlowBeat {
  handler: string;
  medianMs: number;
  baselineMedianMs: number;
  growthMs: number;
}

/**
 * A sequence got slower: which of its beats took the extra time? Compares each handler's median
 * duration inside the slow example runs with that handler's own baseline, and names the handler
 * that grew most ('slow-beat:<handler>'). Works only on runs the engine still holds.
 */
export function sequenceTimingHypothesis(anomaly: Anomaly, evidence: EvidenceSource): { hypothesis?: Hypothesis; slowest?: SlowBeat } {
  if (anomaly.type !== 'performance' || anomaly.handler !== undefined) return {};
  const byHandler = new Map<string, number[]>();
  for (const e of anomaly.exemplars) {
    for (const b of evidence.traceBeats(e.traceId) ?? []) {
      if (b.service !== anomaly.service || b.parentSpanId === '' || b.handler === anomaly.sequence) continue;
      let list = byHandler.get(b.handler);
      if (!list) byHandler.set(b.handler, (list = []));
      list.push(b.durationMs);
    }
  }
  const grown: SlowBeat[] = [];
  for (const [handler, durations] of byHandler) {
    const base = median(evidence.baselineBeats(anomaly.service, handler).map((b: Beat) => b.durationMs));
    const now = median(durations);
    if (base === undefined || now === undefined) continue;
    grown.push({ handler, medianMs: round(now, 3), baselineMedianMs: round(base, 3), growthMs: round(now - base, 3) });
  }
  grown.sort((a, b) => b.growthMs - a.growthMs);
  const top = grown[0];
  // Noise in one beat is not an explanation: the culprit must have grown clearly.
  if (!top || top.growthMs < Math.max(MIN_GROWTH_MS, MIN_GROWTH_RATIO * top.baselineMedianMs)) return {};
  const total = grown.reduce((s, g) => s + Math.max(0, g.growthMs), 0);
  const share = total > 0 ? top.growthMs / total : 0;
  return {
    slowest: top,
    hypothesis: {
      cause: `slow-beat:${top.handler}`,
      description: `${top.handler} took the extra time in slow ${anomaly.sequence ?? 'sequence'} runs: median ${top.medianMs} ms vs ${top.baselineMedianMs} ms in its baseline`,
      score: round(Math.min(0.9, 0.5 + 0.4 * share), 3),
      evidence: grown.slice(0, 5).map((g) => `${g.handler}: median ${g.medianMs} ms vs baseline ${g.baselineMedianMs} ms (${g.growthMs >= 0 ? '+' : ''}${g.growthMs} ms)`),
    },
  };
}
