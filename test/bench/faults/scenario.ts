import type { AnomalySubtype, AnomalyType } from '../../../src/model/anomaly.js';

/** Injected faults on a slice timeline, with what a detector is expected to report for each. */
export type FaultKind =
  | 'latency-regression'
  | 'error-burst'
  | 'new-exception'
  | 'out-of-order'
  | 'missing-beat'
  | 'hot-untested-handler'
  | 'version-regression'
  | 'count-surge';

export interface Matcher {
  type: AnomalyType;
  subtype?: AnomalySubtype;
  service?: string;
  handler?: string;
  sequence?: string;
}

export interface Fault {
  id: string;
  kind: FaultKind;
  /** First faulty slice (inclusive) and end (exclusive). */
  startSlice: number;
  endSlice: number;
  service: string;
  sequence?: string;
  handler: string;
  /** Latency multiplier (latency / version regressions), run multiplier (count surge). */
  factor?: number;
  /** Share of runs / calls affected. */
  rate?: number;
  /** Handler swapped with `handler` (out-of-order). */
  swapWith?: string;
  /** New service.version (version regression) and the share of instances running it. */
  version?: string;
  /** Calls per slice of a new handler (hot untested handler). */
  calls?: number;
  /** Findings that detect this fault. */
  expect: Matcher[];
  /** Findings that are true consequences of it (not false alarms), but do not count as detection. */
  related: Matcher[];
  /** Root cause a diagnosis should name first (hypothesis.cause), when the fault has one. */
  rootCause?: string[];
}

export interface Scenario {
  seed: number;
  sliceMs: number;
  /** Epoch ms of slice 0. */
  startMs: number;
  slices: number;
  /** Slices before scoring starts (baselines and learned orders form here). */
  warmupSlices: number;
  /** A finding up to this many slices after a fault ended still belongs to it. */
  graceSlices: number;
  faults: Fault[];
}

const DURATION = 12;
const GAP = 12;
/** Two hours of history would be normal; 20 minutes is enough for every baseline to form. */
const FIRST_FAULT = 130;

function at(n: number): { startSlice: number; endSlice: number } {
  const startSlice = FIRST_FAULT + n * (DURATION + GAP);
  return { startSlice, endSlice: startSlice + DURATION };
}

export type Intensity = 'strong' | 'subtle';

/** Fault magnitudes: obvious ones, and ones near what the detectors are meant to catch. */
const MAGNITUDE = {
  strong: { latency: 5, errors: 0.25, exception: 0.05, order: 0.4, missing: 0.35, calls: 120, release: 4, canary: 0.5, surge: 5 },
  subtle: { latency: 1.6, errors: 0.06, exception: 0.01, order: 0.1, missing: 0.08, calls: 30, release: 1.8, canary: 0.25, surge: 2.5 },
} as const;

export function scenarioFaults(intensity: Intensity = 'strong'): Fault[] {
  const m = MAGNITUDE[intensity];
  return [
    {
      id: 'latency-priceCart',
      kind: 'latency-regression',
      ...at(0),
      service: 'shop-api',
      sequence: 'checkout',
      handler: 'priceCart',
      factor: m.latency,
      expect: [{ type: 'performance', service: 'shop-api', handler: 'priceCart' }],
      // The sequence's root span contains priceCart, so it slows down too.
      related: [
        { type: 'performance', service: 'shop-api', handler: 'checkout' },
        { type: 'performance', service: 'shop-api', sequence: 'checkout' },
      ],
      rootCause: ['self-time-regression'],
    },
    {
      id: 'errors-createUser',
      kind: 'error-burst',
      ...at(1),
      service: 'accounts',
      sequence: 'signup',
      handler: 'createUser',
      rate: m.errors,
      expect: [{ type: 'error', service: 'accounts', handler: 'createUser' }],
      // The failing beats belong to signup runs, so the sequence's error rate rises with them.
      related: [{ type: 'error', service: 'accounts', sequence: 'signup' }],
    },
    {
      id: 'exception-rankResults',
      kind: 'new-exception',
      ...at(2),
      service: 'catalog',
      sequence: 'search',
      handler: 'rankResults',
      rate: m.exception,
      expect: [{ type: 'error', service: 'catalog', handler: 'rankResults' }],
      related: [{ type: 'error', service: 'catalog', sequence: 'search' }],
      rootCause: ['code-defect'],
    },
    {
      id: 'order-export-report',
      kind: 'out-of-order',
      ...at(3),
      service: 'reports',
      sequence: 'export-report',
      handler: 'aggregate',
      swapWith: 'renderPdf',
      rate: m.order,
      expect: [{ type: 'behavioral', subtype: 'out-of-order', service: 'reports', sequence: 'export-report' }],
      related: [],
      rootCause: ['sequence-change'],
    },
    {
      id: 'missing-reserveStock',
      kind: 'missing-beat',
      ...at(4),
      service: 'shop-api',
      sequence: 'checkout',
      handler: 'reserveStock',
      rate: m.missing,
      expect: [{ type: 'behavioral', subtype: 'missing-beat', service: 'shop-api', sequence: 'checkout', handler: 'reserveStock' }],
      related: [],
      rootCause: ['missing-handler-registration', 'sequence-change'],
    },
    {
      id: 'untested-suggestCompletions',
      kind: 'hot-untested-handler',
      ...at(5),
      service: 'catalog',
      handler: 'suggestCompletions',
      calls: m.calls,
      expect: [{ type: 'coverage', subtype: 'untested-handler', service: 'catalog', handler: 'suggestCompletions' }],
      related: [],
      rootCause: ['untested-hot-path'],
    },
    {
      id: 'release-queryIndex',
      kind: 'version-regression',
      ...at(6),
      service: 'catalog',
      sequence: 'search',
      handler: 'queryIndex',
      factor: m.release,
      version: '2.1.0',
      rate: m.canary,
      expect: [{ type: 'performance', service: 'catalog', handler: 'queryIndex' }],
      related: [
        { type: 'performance', service: 'catalog', handler: 'search' },
        { type: 'performance', service: 'catalog', sequence: 'search' },
      ],
      rootCause: ['new-release'],
    },
    {
      id: 'surge-signup',
      kind: 'count-surge',
      ...at(7),
      service: 'accounts',
      sequence: 'signup',
      handler: 'signup',
      factor: m.surge,
      expect: [{ type: 'behavioral', subtype: 'count-surge', service: 'accounts', sequence: 'signup' }],
      related: [],
      rootCause: ['traffic-surge'],
    },
  ];
}

export const DEFAULT_FAULTS: Fault[] = scenarioFaults('strong');

export function defaultScenario(seed = 42, intensity: Intensity = 'strong'): Scenario {
  const faults = scenarioFaults(intensity);
  const last = faults[faults.length - 1]!;
  return {
    seed,
    sliceMs: 10_000,
    startMs: Date.UTC(2026, 0, 5, 9, 0, 0),
    slices: last.endSlice + GAP,
    warmupSlices: 120,
    // Detectors see a fault in their 30-slice window for that long after it ends.
    graceSlices: 30,
    faults,
  };
}

export function activeFaults(faults: Fault[], slice: number): Fault[] {
  return faults.filter((f) => slice >= f.startSlice && slice < f.endSlice);
}
