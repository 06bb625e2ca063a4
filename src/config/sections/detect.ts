import { z } from 'zod';

const SloSchema = z.strictObject({
  p95Ms: z.number().positive().optional(),
  p99Ms: z.number().positive().optional(),
  maxMs: z.number().positive().optional(),
});

/** Log template mining and log detection (src/detect/log-templates.ts, log-detector.ts). */
const LogDetectSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Mine templates from received OTLP log records and detect on them'),
    similarity: z.number().min(0).max(1).default(0.5).describe('Share of equal tokens a log line needs to join a template (Drain similarity threshold)'),
    prefixTokens: z.number().int().min(0).max(8).default(1).describe('Leading tokens that route a line in the template tree (Drain depth minus three)'),
    maxTemplatesPerService: z.number().int().positive().default(1000).describe('Templates kept per service; the least recently matched is evicted (counted)'),
    maxServices: z.number().int().positive().default(1000).describe('Services whose templates are kept'),
    maxTrackedTemplates: z.number().int().positive().default(5000).describe('Templates with rate state (all services together); least recently seen evicted'),
    horizonSlices: z.number().int().positive().default(3).describe('Newest slices whose template counts are tested against the baseline (surges, drops)'),
    significance: z.number().positive().max(0.5).default(1e-4).describe('One-sided p-value of the surge and drop tests'),
    newTemplateMinSeverity: z.number().int().min(1).max(24).default(13).describe('OTLP SeverityNumber from which an unseen template is reported (13 WARN, 17 ERROR)'),
    surgeMinSeverity: z
      .number()
      .int()
      .min(0)
      .max(24)
      .default(13)
      .describe('Lowest OTLP SeverityNumber of a template that can surge (13 WARN; 0 lets INFO chatter surge too)'),
    surgeRatio: z.number().min(1).default(4).describe('An INFO template surges at this multiple of its baseline; WARN/ERROR templates at this divided by their weight'),
    surgeMinCount: z.number().int().positive().default(20).describe('Fewest records of an INFO template in the horizon for a surge (divided by the weight too)'),
    errorWeight: z.number().min(1).default(4).describe('Weight of ERROR/FATAL templates in the surge thresholds (WARN: half of it)'),
    dropHorizonSlices: z.number().int().positive().default(6).describe('Newest slices tested for a drop (all of them must have logs from the service)'),
    dropRatio: z.number().min(0).max(1).default(0.2).describe('A template drops when its horizon count falls to this fraction of the expected count or below'),
    dropMinPresence: z.number().min(0).max(1).default(0.9).describe('Only templates seen in at least this share of baseline slices can drop'),
    markSpansFailed: z.boolean().default(true).describe('An ERROR log bound to a span marks that span failed when the span itself carries no error'),
    joinHorizonMs: z.number().int().positive().default(60_000).describe('How long an ERROR log waits for its span'),
    maxJoinEntries: z.number().int().positive().default(20_000).describe('ERROR logs waiting for their span, at most'),
  })
  .prefault({});
export type LogDetectConfig = z.infer<typeof LogDetectSchema>;

/** Budgets of the service graph (src/detect/service-graph.ts): traces buffered until complete, keys tracked. */
const ServiceGraphSchema = z
  .strictObject({
    traceGraceMs: z.number().int().positive().default(5_000).describe('A buffered trace with no new span for this long is complete and folded into its slice'),
    maxTraces: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('Budget: traces buffered for the trace grace (~0.8-1 KB per 8-span trace); beyond it the least recently ended one is folded early (self_healing_service_graph_traces_folded_early_total)'),
    maxKeys: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe('Budget: distinct services + endpoints + edges + patterns tracked; new ones beyond it are dropped (self_healing_service_graph_keys_dropped_total)'),
    maxSamples: z.number().int().positive().default(256).describe('Samples kept per key and slice for its quantiles (reservoir)'),
  })
  .prefault({});
export type ServiceGraphConfig = z.infer<typeof ServiceGraphSchema>;

export const DetectSchema = z.strictObject({
    sliceMs: z.number().int().positive().default(10_000).describe('Width of one window slice'),
    windowSlices: z.number().int().positive().default(30).describe('Slices in the current window (30 x 10 s = 5 min)'),
    baselineSlices: z.number().int().positive().default(360).describe('Horizon of the long baseline, in slices'),
    minSamples: z.number().int().positive().default(30).describe('No verdict below this many beats in a window'),
    maxKeys: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('Budget: tracked (service, handler) and (service, sequence) keys (sizing per key: docs/operations.md); a new key beyond it replaces the least recently used one only if that one is idle (detect.keyActiveMs), else it is refused'),
    idleEvictMs: z.number().int().positive().default(3_600_000).describe('A key with no beat for this long (data time) is evicted'),
    keyActiveMs: z
      .number()
      .int()
      .nonnegative()
      .default(300_000)
      .describe(
        'A full key table evicts its least recently used key for a new one only if that key has had no beat for this long; otherwise the new key is refused (self_healing_detect_beats_refused_total). 0: always evict',
      ),
    slo: z.strictObject({
        global: SloSchema.optional(),
        handlers: z.record(z.string(), SloSchema).default({}),
      })
      .prefault({}),
    sequenceFiles: z.array(z.string()).default([]).describe('Glob patterns of declared MusicalConductor sequence JSON files'),
    coverageReport: z.string().optional().describe('istanbul coverage-final.json or lcov.info of the application repository'),
    runTimeoutMs: z.number().int().positive().default(30_000).describe('A sequence run with no new beat for this long is complete (or incomplete)'),
    maxInflightRuns: z.number().int().positive().default(10_000).describe('Budget: sequence runs being assembled; the least recently active is evicted (self_healing_trace_runs_evicted_total)'),
    maxInflightSpans: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Budget: spans held by all runs being assembled together (~340 B each); the least recently active runs are evicted to stay under it'),
    maxRecentRunSpans: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe('Budget: spans of recently closed runs kept for diagnosis (late spans beyond it are dropped: self_healing_trace_spans_dropped_total{reason="late"})'),
    maxRetainedBeats: z
      .number()
      .int()
      .positive()
      .default(20_000)
      .describe(
        'Budget: beats kept as evidence by all handler reservoirs together (recent, failing and baseline samples, up to 650 per handler; ~0.3-1 KB each); past it reservoirs stop growing and overwrite their own oldest',
      ),
    maxPendingEvictedRuns: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe('Budget: evicted runs waiting for the next evaluation; more are only counted (self_healing_trace_evictions_dropped_total)'),
    baselineMinSlices: z.number().int().positive().default(10).describe('Closed non-empty slices a key needs before its baseline is used'),
    shortSlices: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe('Short-horizon tests look at the newest slice and the newest shortSlices slices (latency), shortSlices and 2 x shortSlices (errors)'),
    versionSplit: z
      .boolean()
      .default(true)
      .describe("Test a handler's beats of a newly seen service.version separately against the handler's baseline"),
    latency: z
      .strictObject({
        significance: z.number().positive().max(0.5).default(1e-4).describe('One-sided p-value of the binomial exceedance test'),
        minRelativeEffect: z.number().nonnegative().default(0.3).describe('Window p95/p99 must exceed the baseline by this fraction'),
        minAbsoluteMs: z.number().nonnegative().default(1).describe('...and by at least this many ms'),
        shortSignificance: z
          .number()
          .positive()
          .max(0.5)
          .default(1e-6)
          .describe('Significance shared by the short-horizon latency looks (a second look at every key every slice)'),
        noveltyMemory: z
          .number()
          .int()
          .min(50)
          .max(100_000)
          .default(6000)
          .describe(
            'Slice p95s per key remembered by the novelty scorer behind latency confidence (the NAB-benchmarked core; 6000 is its NAB set, 16 B per value per key)',
          ),
      })
      .prefault({}),
    errors: z
      .strictObject({
        significance: z.number().positive().max(0.5).default(1e-4).describe('One-sided p-value of the error-rate test'),
        minRateRatio: z.number().min(1).default(2).describe('Window error rate must be at least this multiple of the baseline rate'),
        minRateIncrease: z.number().nonnegative().default(0.02).describe('...and this much higher in absolute terms'),
        minErrors: z.number().int().positive().default(3).describe('Fewer errors in the window is never a spike'),
        shortSignificance: z
          .number()
          .positive()
          .max(0.5)
          .default(1e-6)
          .describe('Significance shared by the short-horizon error-rate looks'),
        fingerprintWarmupBeats: z
          .number()
          .int()
          .nonnegative()
          .default(1000)
          .describe('Beats a handler must have seen before an unseen error fingerprint counts as new'),
      })
      .prefault({}),
    logs: LogDetectSchema,
    serviceGraph: ServiceGraphSchema,
    resolveAfter: z.number().int().positive().default(3).describe('Clean evaluations in a row before an anomaly is resolved'),
    updateEvery: z.number().int().positive().default(30).describe('Re-emit an unchanged ongoing anomaly every this many evaluations'),
  })
  .prefault({});
export type DetectConfig = z.infer<typeof DetectSchema>;
