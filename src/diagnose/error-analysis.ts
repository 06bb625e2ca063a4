import type { Anomaly } from '../model/anomaly.js';
import type { Beat, BeatError } from '../model/beat.js';
import type { Hypothesis } from '../model/diagnosis.js';
import { errorFingerprintOf } from './beat-sets.js';

export type ErrorKind = 'null-access' | 'not-a-function' | 'other';

export interface ErrorClass {
  kind: ErrorKind;
  /** The property or callee named by the message, when it names one. */
  property?: string;
}

/**
 * V8 (and a few other engines') wordings for touching a property of null/undefined or calling
 * something that is not a function. Each captures the property name where the message has one.
 */
const NULL_ACCESS: RegExp[] = [
  /Cannot (?:read|set) propert(?:y|ies) of (?:undefined|null)(?: \((?:reading|setting) '([^']*)'\))?/,
  /Cannot (?:read|set) property '([^']*)' of (?:undefined|null)/,
  /Cannot destructure property '([^']*)' of .* as it is (?:undefined|null)/,
  /Cannot destructure '[^']*' as it is (?:undefined|null)/,
  /^(?:\S+ )?(?:undefined|null) is not an object(?: \(evaluating '([^']*)'\))?/,
  /^([\w$.[\]]+) is (?:undefined|null)$/,
];
const NOT_A_FUNCTION = /([\w$.[\]()]+) is not a function/;

/** Classifies an error message; "x is not a function" counts as null access (x was undefined). */
export function classifyError(type: string, message: string): ErrorClass {
  for (const re of NULL_ACCESS) {
    const m = re.exec(message);
    if (m !== null) return m[1] === undefined ? { kind: 'null-access' } : { kind: 'null-access', property: m[1] };
  }
  const nf = NOT_A_FUNCTION.exec(message);
  if (nf !== null && (type === 'TypeError' || type === 'Error' || type === '')) {
    return { kind: 'null-access', property: nf[1]! };
  }
  return { kind: 'other' };
}

export interface ErrorResult {
  hypothesis: Hypothesis;
  error: BeatError;
  errorClass: ErrorClass;
  /** Beats that failed with this error (newest last). */
  failing: Beat[];
}

/** The representative error: the one with the anomaly's fingerprint, else the most common. */
export function pickError(anomaly: Anomaly, failing: readonly Beat[]): { error: BeatError; beats: Beat[] } | undefined {
  const wanted = errorFingerprintOf(anomaly);
  const groups = new Map<string, Beat[]>();
  for (const b of failing) {
    if (b.error === undefined) continue;
    const list = groups.get(b.error.fingerprint) ?? [];
    list.push(b);
    groups.set(b.error.fingerprint, list);
  }
  let chosen = wanted === undefined ? undefined : groups.get(wanted);
  if (chosen === undefined) {
    for (const list of groups.values()) if (chosen === undefined || list.length > chosen.length) chosen = list;
  }
  if (chosen === undefined || chosen.length === 0) return undefined;
  return { error: chosen[chosen.length - 1]!.error!, beats: chosen };
}

/** 'code-defect': the handler throws; names the error, where it is thrown and how often. */
export function errorHypothesis(anomaly: Anomaly, failing: readonly Beat[]): ErrorResult | undefined {
  const picked = pickError(anomaly, failing);
  if (picked === undefined) return undefined;
  const { error, beats } = picked;
  const errorClass = classifyError(error.type, error.message);
  const evidence = [
    `${beats.length} failing beat(s) with ${error.type}: ${error.message}`,
    `fingerprint ${error.fingerprint}`,
  ];
  if (error.topFrame !== '') evidence.push(`thrown at ${error.topFrame}`);
  if (errorClass.kind === 'null-access') {
    evidence.push(
      `null/undefined access${errorClass.property === undefined ? '' : ` on '${errorClass.property}'`}: a missing guard`,
    );
  }
  const score = Math.min(0.95, 0.6 + 0.05 * Math.min(beats.length, 5) + (error.topFrame === '' ? 0 : 0.1));
  return {
    error,
    errorClass,
    failing: beats,
    hypothesis: {
      cause: 'code-defect',
      description:
        errorClass.kind === 'null-access'
          ? `${error.type} from a null/undefined access${error.topFrame === '' ? '' : ` at ${error.topFrame}`}`
          : `the handler throws ${error.type}: ${error.message}`,
      score: Math.round(score * 1000) / 1000,
      evidence,
    },
  };
}
