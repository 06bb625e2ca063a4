import { afterEach, describe, expect, it } from 'vitest';
import type { FixKind } from '../../../src/model/diagnosis.js';
import { generateFix, orderStrategies, type FixContext, type FixStrategy, type GeneratedFix } from '../../../src/heal/fix/strategy.js';
import { defaultStrategies } from '../../../src/heal/fix/strategies.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';
import { checkDiffsApply, gitStatus, nullAccessContext } from './fix-context.js';

function fake(kind: FixKind, behaviour: 'ok' | 'none' | 'throw' | 'skip'): FixStrategy {
  return {
    kind,
    applicable: () => behaviour !== 'skip',
    generate: (): Promise<GeneratedFix | undefined> => {
      if (behaviour === 'throw') return Promise.reject(new Error(`${kind} broke`));
      if (behaviour === 'none') return Promise.resolve(undefined);
      return Promise.resolve({ kind, title: kind, description: '', diff: 'd', files: [], claims: {} });
    },
  };
}

describe('orderStrategies', () => {
  const all = (['documentation', 'memoize', 'guard', 'rollback', 'regression-test'] as const).map((k) => fake(k, 'ok'));

  it('puts preferred kinds first, then the diagnosis order, then the learned ranking', () => {
    const order = orderStrategies(all, ['rollback', 'guard'], { preferKinds: ['memoize'], strategyRanking: { documentation: 0.9, 'regression-test': 0.2 } });
    expect(order.map((s) => s.kind)).toEqual(['memoize', 'rollback', 'guard', 'documentation', 'regression-test']);
    expect(orderStrategies(all, [], {}).map((s) => s.kind)).toEqual(all.map((s) => s.kind));
  });
});

describe('generateFix', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('skips inapplicable strategies, reports failures and keeps going', async () => {
    repo = await createFixtureRepo();
    const errors: string[] = [];
    const fixes = await generateFix(nullAccessContext(repo.dir), {
      strategies: [fake('guard', 'throw'), fake('memoize', 'skip'), fake('rollback', 'none'), fake('documentation', 'ok')],
      onStrategyError: (kind, err) => errors.push(`${kind}: ${(err as Error).message}`),
    });
    expect(fixes.map((f) => f.kind)).toEqual(['documentation']);
    expect(errors).toEqual(['guard: guard broke']);
    expect(await generateFix(nullAccessContext(repo.dir), { strategies: [fake('guard', 'throw')] })).toEqual([]);
  });

  it('runs the default strategies against the fixture: every diff applies on a clean clone', async () => {
    repo = await createFixtureRepo();
    const ctx: FixContext = nullAccessContext(repo.dir);
    expect(defaultStrategies().map((s) => s.kind)).toEqual(['regression-test', 'guard', 'rollback', 'memoize', 'documentation']);
    const fixes = await generateFix(ctx, { preferKinds: ['guard'] });
    // documentation is never generated for an error anomaly (see DocumentationStrategy.applicable).
    expect(fixes.map((f) => f.kind)).toEqual(['guard', 'regression-test', 'rollback']);
    expect(await gitStatus(repo.dir)).toBe('');
    await checkDiffsApply(repo.dir, fixes.map((f) => f.diff));
  });
});
