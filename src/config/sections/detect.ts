import { z } from 'zod';

const SloSchema = z.strictObject({
  p95Ms: z.number().positive().optional(),
  p99Ms: z.number().positive().optional(),
  maxMs: z.number().positive().optional(),
});

export const DetectSchema = z.strictObject({
    sliceMs: z.number().int().positive().default(10_000).describe('Width of one window slice'),
    windowSlices: z.number().int().positive().default(30).describe('Slices in the current window (30 x 10 s = 5 min)'),
    baselineSlices: z.number().int().positive().default(360).describe('Horizon of the long baseline, in slices'),
    minSamples: z.number().int().positive().default(30).describe('No verdict below this many beats in a window'),
    maxKeys: z.number().int().positive().default(10_000).describe('Cap on tracked (service, handler) and (service, sequence) keys; idle keys are evicted first'),
    idleEvictMs: z.number().int().positive().default(3_600_000),
    slo: z.strictObject({
        global: SloSchema.optional(),
        handlers: z.record(z.string(), SloSchema).default({}),
      })
      .prefault({}),
    sequenceFiles: z.array(z.string()).default([]).describe('Glob patterns of declared MusicalConductor sequence JSON files'),
    coverageReport: z.string().optional().describe('istanbul coverage-final.json or lcov.info of the application repository'),
    runTimeoutMs: z.number().int().positive().default(30_000).describe('A sequence run with no new beat for this long is complete (or incomplete)'),
    maxInflightRuns: z.number().int().positive().default(50_000),
  })
  .prefault({});
export type DetectConfig = z.infer<typeof DetectSchema>;
