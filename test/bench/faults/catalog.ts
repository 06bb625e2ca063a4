import type { Sequence } from '../../../src/model/sequence.js';

/** The simulated application: a few services running MusicalConductor sequences. */
export interface ChildSpec {
  /** Span name of a non-beat child (database call, HTTP client). */
  name: string;
  medianMs: number;
  sigma: number;
}

export interface BeatSpec {
  handler: string;
  movement: string;
  beat: number;
  event: string;
  medianMs: number;
  sigma: number;
  /** Background error rate, always present (a known, stable fingerprint). */
  noiseErrorRate: number;
  /** Share of runs that legitimately skip this beat (an optional beat). */
  skipRate?: number;
  /** Share of runs that retry this beat once (a duplicate that is normal here). */
  retryRate?: number;
  children?: ChildSpec[];
  testFile?: string;
}

export interface SequenceSpec {
  name: string;
  service: string;
  version: string;
  plugin: string;
  runsPerSlice: number;
  /** Declared in a sequence JSON file (otherwise the order must be learned). */
  declared: boolean;
  beats: BeatSpec[];
}

/** A request handler outside any sequence: a root span with no children. */
export interface StandaloneSpec {
  service: string;
  version: string;
  handler: string;
  callsPerSlice: number;
  medianMs: number;
  sigma: number;
}

export const SEQUENCES: SequenceSpec[] = [
  {
    name: 'checkout',
    service: 'shop-api',
    version: '1.4.2',
    plugin: 'CartPlugin',
    runsPerSlice: 60,
    declared: true,
    beats: [
      { handler: 'validateCart', movement: 'validate', beat: 1, event: 'cart:validate', medianMs: 2, sigma: 0.3, noiseErrorRate: 0.002 },
      { handler: 'priceCart', movement: 'validate', beat: 2, event: 'cart:price', medianMs: 6, sigma: 0.35, noiseErrorRate: 0.002, children: [{ name: 'SELECT prices', medianMs: 3, sigma: 0.3 }] },
      { handler: 'chargeCard', movement: 'pay', beat: 1, event: 'payment:charge', medianMs: 40, sigma: 0.4, noiseErrorRate: 0.004, children: [{ name: 'POST /v1/charges', medianMs: 30, sigma: 0.4 }] },
      { handler: 'reserveStock', movement: 'pay', beat: 2, event: 'stock:reserve', medianMs: 8, sigma: 0.3, noiseErrorRate: 0.002, children: [{ name: 'UPDATE stock', medianMs: 4, sigma: 0.3 }] },
      { handler: 'sendReceipt', movement: 'confirm', beat: 1, event: 'mail:receipt', medianMs: 5, sigma: 0.3, noiseErrorRate: 0.002, skipRate: 0.01 },
    ],
  },
  {
    name: 'search',
    service: 'catalog',
    version: '2.0.1',
    plugin: 'SearchPlugin',
    runsPerSlice: 150,
    declared: false,
    beats: [
      { handler: 'parseQuery', movement: 'query', beat: 1, event: 'search:parse', medianMs: 1, sigma: 0.3, noiseErrorRate: 0.001 },
      { handler: 'queryIndex', movement: 'query', beat: 2, event: 'search:query', medianMs: 12, sigma: 0.4, noiseErrorRate: 0.002, retryRate: 0.02 },
      { handler: 'rankResults', movement: 'rank', beat: 1, event: 'search:rank', medianMs: 4, sigma: 0.3, noiseErrorRate: 0.001 },
    ],
  },
  {
    name: 'signup',
    service: 'accounts',
    version: '3.1.0',
    plugin: 'AccountPlugin',
    runsPerSlice: 30,
    declared: true,
    beats: [
      { handler: 'validateEmail', movement: 'check', beat: 1, event: 'signup:validate', medianMs: 1.5, sigma: 0.3, noiseErrorRate: 0.002 },
      { handler: 'createUser', movement: 'persist', beat: 1, event: 'signup:create', medianMs: 10, sigma: 0.35, noiseErrorRate: 0.003, children: [{ name: 'INSERT users', medianMs: 5, sigma: 0.3 }] },
      { handler: 'sendWelcome', movement: 'notify', beat: 1, event: 'mail:welcome', medianMs: 6, sigma: 0.3, noiseErrorRate: 0.002 },
      { handler: 'trackSignup', movement: 'notify', beat: 2, event: 'analytics:signup', medianMs: 2, sigma: 0.3, noiseErrorRate: 0.002 },
    ],
  },
  {
    name: 'export-report',
    service: 'reports',
    version: '1.0.0',
    plugin: 'ReportPlugin',
    runsPerSlice: 20,
    declared: false,
    beats: [
      { handler: 'loadRows', movement: 'collect', beat: 1, event: 'report:load', medianMs: 30, sigma: 0.4, noiseErrorRate: 0.003, children: [{ name: 'SELECT rows', medianMs: 25, sigma: 0.4 }] },
      { handler: 'aggregate', movement: 'collect', beat: 2, event: 'report:aggregate', medianMs: 15, sigma: 0.3, noiseErrorRate: 0.003 },
      { handler: 'renderPdf', movement: 'render', beat: 1, event: 'report:render', medianMs: 80, sigma: 0.35, noiseErrorRate: 0.003 },
      { handler: 'uploadFile', movement: 'deliver', beat: 1, event: 'report:upload', medianMs: 25, sigma: 0.4, noiseErrorRate: 0.003, children: [{ name: 'PUT s3', medianMs: 20, sigma: 0.4 }] },
      { handler: 'notifyUser', movement: 'deliver', beat: 2, event: 'report:notify', medianMs: 4, sigma: 0.3, noiseErrorRate: 0.003 },
      { handler: 'auditLog', movement: 'deliver', beat: 3, event: 'report:audit', medianMs: 2, sigma: 0.3, noiseErrorRate: 0.003 },
    ],
  },
];

export const STANDALONE: StandaloneSpec[] = [
  { service: 'catalog', version: '2.0.1', handler: 'getProduct', callsPerSlice: 80, medianMs: 3, sigma: 0.3 },
  // No traffic until the hot-untested-handler fault switches its feature flag on.
  { service: 'catalog', version: '2.0.1', handler: 'suggestCompletions', callsPerSlice: 0, medianMs: 2, sigma: 0.3 },
];

/** Handlers the application's tests do not execute (the coverage report says 0 hits). */
export const UNTESTED_HANDLERS = new Set(['suggestCompletions']);

/** The MusicalConductor JSON of the declared sequences. */
export function declaredSequences(specs: SequenceSpec[] = SEQUENCES): Sequence[] {
  return specs
    .filter((s) => s.declared)
    .map((s) => {
      const movements = new Map<string, Sequence['movements'][number]>();
      for (const b of s.beats) {
        let m = movements.get(b.movement);
        if (m === undefined) {
          m = { name: b.movement, beats: [] };
          movements.set(b.movement, m);
        }
        const beat: Sequence['movements'][number]['beats'][number] = { beat: b.beat, event: b.event, handler: b.handler, plugin: s.plugin, kind: 'stage-crew' };
        if (b.testFile !== undefined) beat.testFile = b.testFile;
        m.beats.push(beat);
      }
      return { id: `${s.plugin}.${s.name}`, name: s.name, pluginId: s.plugin, movements: [...movements.values()] };
    });
}

/** An lcov.info for the simulated repository: every handler covered except UNTESTED_HANDLERS. */
export function coverageLcov(specs: SequenceSpec[] = SEQUENCES, standalone: StandaloneSpec[] = STANDALONE): string {
  const records: string[] = [];
  const file = (name: string, handlers: string[]): void => {
    records.push('TN:', `SF:src/${name}.js`);
    handlers.forEach((h, i) => records.push(`FN:${10 * i + 1},${h}`));
    handlers.forEach((h) => records.push(`FNDA:${UNTESTED_HANDLERS.has(h) ? 0 : 3},${h}`));
    records.push('end_of_record');
  };
  for (const s of specs) file(s.name, [s.name, ...s.beats.map((b) => b.handler)]);
  file('standalone', standalone.map((s) => s.handler));
  return records.join('\n') + '\n';
}
