import type { Anomaly } from '../model/anomaly.js';
import type { Hypothesis } from '../model/diagnosis.js';

function detail(a: Anomaly, key: string): string | undefined {
  const v = a.details[key];
  return v === undefined ? undefined : String(v);
}

function facts(a: Anomaly): string[] {
  const out = [a.summary];
  for (const [k, v] of Object.entries(a.details)) out.push(`${k}: ${String(v)}`);
  return out;
}

/**
 * Hypotheses for behavioural (the shape of sequence runs changed) and coverage anomalies, read
 * from the detector's own facts: these anomalies are about structure, not about beat figures.
 */
export function shapeHypotheses(a: Anomaly): Hypothesis[] {
  const where = a.sequence ?? a.handler ?? a.service;
  const beat = detail(a, 'beat') ?? detail(a, 'missingBeat') ?? a.handler;
  const confidence = a.confidence;
  const scaled = (base: number): number => Math.round(Math.min(1, base * (0.5 + 0.5 * confidence)) * 1000) / 1000;
  switch (a.subtype) {
    case 'missing-beat':
      return [
        {
          cause: 'missing-handler-registration',
          description: `beat ${beat ?? '?'} no longer runs in ${where}: its handler may not be registered (plugin not loaded, route removed)`,
          score: scaled(0.7),
          evidence: facts(a),
        },
        { cause: 'sequence-change', description: `the shape of ${where} runs changed`, score: scaled(0.5), evidence: facts(a) },
      ];
    case 'unexpected-beat':
    case 'out-of-order':
    case 'duplicate-beat':
      return [
        {
          cause: 'sequence-change',
          description: `runs of ${where} differ from the learned sequence (${a.subtype})`,
          score: scaled(0.7),
          evidence: facts(a),
        },
      ];
    case 'incomplete-run':
      return [
        {
          cause: 'aborted-run',
          description: `runs of ${where} stop before their last beat: a beat fails or hangs`,
          score: scaled(0.65),
          evidence: facts(a),
        },
        { cause: 'sequence-change', description: `the shape of ${where} runs changed`, score: scaled(0.4), evidence: facts(a) },
      ];
    case 'count-surge':
      return [
        {
          cause: 'traffic-surge',
          description: `${where} runs far more often than usual (retry loop, client bug or real load)`,
          score: scaled(0.6),
          evidence: facts(a),
        },
      ];
    case 'untested-handler':
      return [
        {
          cause: 'untested-hot-path',
          description: `${a.handler ?? where} runs in production but no test exercises it`,
          score: scaled(0.8),
          evidence: facts(a),
        },
      ];
    case 'unexecuted-beat':
      return [
        {
          cause: 'missing-handler-registration',
          description: `beat ${beat ?? '?'} is declared in ${where} but never executes`,
          score: scaled(0.6),
          evidence: facts(a),
        },
        { cause: 'dead-code', description: `the beat may be obsolete in ${where}`, score: scaled(0.3), evidence: facts(a) },
      ];
    default:
      return [];
  }
}
