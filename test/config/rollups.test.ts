import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { effectiveRollupTiers, rollupTiers } from '../../src/config/sections/rollups.js';

describe('store.rollups', () => {
  it('defaults to 10 s kept 6 h, 1 min kept 48 h, 10 min kept 8 days', () => {
    const c = ConfigSchema.parse({});
    expect(c.store.rollups.enabled).toBe(true);
    expect(rollupTiers(c.store.rollups)).toEqual([
      { resolutionMs: 10_000, retentionMs: 21_600_000 },
      { resolutionMs: 60_000, retentionMs: 172_800_000 },
      { resolutionMs: 600_000, retentionMs: 691_200_000 },
    ]);
  });

  it('fits the tiers to the detection slice width', () => {
    const tiers = (sliceMs: number): ReturnType<typeof effectiveRollupTiers> => effectiveRollupTiers(ConfigSchema.parse({ detect: { sliceMs } }).store.rollups, sliceMs);
    expect(tiers(10_000)).toEqual(rollupTiers(ConfigSchema.parse({}).store.rollups));
    expect(tiers(5_000).map((t) => t.resolutionMs)).toEqual([10_000, 60_000, 600_000]);
    expect(tiers(15_000).map((t) => t.resolutionMs)).toEqual([15_000, 60_000, 600_000]);
    // 1 min slices: the finest tier is 1 min wide, the middle one adds nothing and is left out.
    expect(tiers(60_000)).toEqual([
      { resolutionMs: 60_000, retentionMs: 21_600_000 },
      { resolutionMs: 600_000, retentionMs: 691_200_000 },
    ]);
    // 40 s slices: 10 min is a whole multiple of 40 s, 1 min is not.
    expect(tiers(40_000).map((t) => t.resolutionMs)).toEqual([40_000, 600_000]);
    // A slice wider than every tier: one tier, kept at least as long as it is wide.
    expect(tiers(3_600_000 * 8)).toEqual([{ resolutionMs: 28_800_000, retentionMs: 28_800_000 }]);
  });

  it('accepts other tiers that build on each other', () => {
    const c = ConfigSchema.parse({ store: { rollups: { fine: { resolutionMs: 5_000, retentionMs: 3_600_000 }, medium: { resolutionMs: 30_000 }, coarse: { resolutionMs: 3_600_000, retentionMs: 30 * 86_400_000 } } } });
    expect(rollupTiers(c.store.rollups).map((t) => t.resolutionMs)).toEqual([5_000, 30_000, 3_600_000]);
  });

  it.each([
    [{ medium: { resolutionMs: 45_000 } }, 'store.rollups.medium.resolutionMs', 'whole multiple'],
    [{ coarse: { resolutionMs: 60_000 } }, 'store.rollups.coarse.resolutionMs', 'larger'],
    [{ fine: { retentionMs: 30_000 } }, 'store.rollups.fine.retentionMs', 'medium.resolutionMs'],
    [{ coarse: { retentionMs: 60_000 } }, 'store.rollups.coarse.retentionMs', 'coarse.resolutionMs'],
    [{ fine: { resolutionMs: 10 } }, 'store.rollups.fine.resolutionMs', '>=1000'],
  ])('names the field of a tier that cannot work: %j', (rollups, path, problem) => {
    const r = ConfigSchema.safeParse({ store: { rollups } });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === path);
    expect(issue, JSON.stringify(r.error!.issues)).toBeDefined();
    expect(issue!.message.replace(/\s/g, '')).toContain(problem.replace(/\s/g, ''));
  });
});
