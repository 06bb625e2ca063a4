import { z } from 'zod';

const tier = (resolutionMs: number, retentionMs: number, what: string, rule: string, feeds = '') =>
  z
    .strictObject({
      resolutionMs: z.number().int().min(1000).default(resolutionMs).describe(`Bucket width of the ${what} tier (ms); ${rule}`),
      retentionMs: z.number().int().positive().default(retentionMs).describe(`How long ${what} buckets are kept (ms)${feeds}`),
    })
    .prefault({});

/**
 * RED rollups kept in SQLite for the dashboard's history (src/store/rollup-store.ts): three tiers,
 * each built from the one below it when its bucket closes, each pruned to its own retention.
 */
export const RollupsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Keep per-service, per-operation and per-edge RED rollups in the store (GET /api/v1/series, /services, /service-graph?from=&to=)'),
    fine: tier(10_000, 6 * 3_600_000, 'finest', 'raised to a whole multiple of detect.sliceMs', '; at least the middle width (it is built from them)'),
    medium: tier(60_000, 48 * 3_600_000, 'middle', 'a larger whole multiple of the finest (left out when detect.sliceMs makes the finest as wide)', '; at least the coarsest width (it is built from them)'),
    coarse: tier(600_000, 8 * 86_400_000, 'coarsest', 'a larger whole multiple of the middle'),
  })
  .superRefine((r, ctx) => {
    const tiers = [
      ['fine', r.fine],
      ['medium', r.medium],
      ['coarse', r.coarse],
    ] as const;
    for (let i = 1; i < tiers.length; i++) {
      const [name, t] = tiers[i]!;
      const [belowName, below] = tiers[i - 1]!;
      if (t.resolutionMs <= below.resolutionMs || t.resolutionMs % below.resolutionMs !== 0) {
        ctx.addIssue({ code: 'custom', path: [name, 'resolutionMs'], message: `must be a larger whole multiple of ${belowName}.resolutionMs (${below.resolutionMs})` });
      }
      // A coarser bucket is built from the finer rows: they must still be there when it closes.
      if (below.retentionMs < t.resolutionMs) {
        ctx.addIssue({ code: 'custom', path: [belowName, 'retentionMs'], message: `must be at least ${name}.resolutionMs (${t.resolutionMs})` });
      }
    }
    for (const [name, t] of tiers) {
      if (t.retentionMs < t.resolutionMs) ctx.addIssue({ code: 'custom', path: [name, 'retentionMs'], message: `must be at least ${name}.resolutionMs (${t.resolutionMs})` });
    }
  })
  .prefault({});
export type RollupsConfig = z.infer<typeof RollupsSchema>;

/** The tiers finest first, as the rollup code takes them. */
export function rollupTiers(r: RollupsConfig): Array<{ resolutionMs: number; retentionMs: number }> {
  return [r.fine, r.medium, r.coarse];
}

/**
 * The tiers as the recorder uses them, for slices `sliceMs` wide (detect.sliceMs). The finest
 * tier is filled with whole slices, so its width is raised to a whole multiple of the slice; a
 * coarser tier that is then no larger whole multiple of the tier below it is left out (with
 * detect.sliceMs 60000 the 1 min tier merges into the finest one).
 */
export function effectiveRollupTiers(r: RollupsConfig, sliceMs: number): Array<{ resolutionMs: number; retentionMs: number }> {
  const fine = { resolutionMs: Math.ceil(r.fine.resolutionMs / sliceMs) * sliceMs, retentionMs: r.fine.retentionMs };
  const out = [{ ...fine, retentionMs: Math.max(fine.retentionMs, fine.resolutionMs) }];
  for (const t of [r.medium, r.coarse]) {
    const below = out[out.length - 1]!;
    if (t.resolutionMs > below.resolutionMs && t.resolutionMs % below.resolutionMs === 0) out.push({ ...t });
    // The tier below must keep its buckets until the one above has been built from them.
    below.retentionMs = Math.max(below.retentionMs, out[out.length - 1]!.resolutionMs);
  }
  return out;
}
