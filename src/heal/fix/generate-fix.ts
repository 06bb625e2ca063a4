import type { FixKind } from '../../model/diagnosis.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';
import { defaultStrategies } from './strategies.js';

export interface GenerateFixOptions {
  /** Kinds tried first, in this order (e.g. the policy's auto-merge kinds). */
  preferKinds?: FixKind[];
  /** Learned success score per kind (higher first), used after preferKinds and the diagnosis order. */
  strategyRanking?: Record<string, number>;
  /** Replaces the default strategy set (the LLM strategy is only in it when passed here). */
  strategies?: FixStrategy[];
  /** Called when a strategy throws (syntax check, git apply --check, I/O); the others still run. */
  onStrategyError?: (kind: FixKind, err: unknown) => void;
}

/**
 * Orders strategies: preferred kinds first, then the diagnosis' recommended order, then the learned
 * ranking; the original order breaks ties so the result is deterministic.
 */
export function orderStrategies(strategies: FixStrategy[], recommended: FixKind[], opts: GenerateFixOptions): FixStrategy[] {
  const rank = (kind: FixKind, list: FixKind[] | undefined): number => {
    const i = list?.indexOf(kind) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return strategies
    .map((strategy, index) => ({ strategy, index }))
    .sort(
      (a, b) =>
        rank(a.strategy.kind, opts.preferKinds) - rank(b.strategy.kind, opts.preferKinds) ||
        rank(a.strategy.kind, recommended) - rank(b.strategy.kind, recommended) ||
        (opts.strategyRanking?.[b.strategy.kind] ?? 0) - (opts.strategyRanking?.[a.strategy.kind] ?? 0) ||
        a.index - b.index,
    )
    .map((s) => s.strategy);
}

/**
 * Runs every applicable strategy one after another (they share the worktree) and returns the fixes
 * they produced, best first. A strategy that fails is reported through onStrategyError and skipped.
 */
export async function generateFix(ctx: FixContext, opts: GenerateFixOptions = {}): Promise<GeneratedFix[]> {
  const strategies = orderStrategies(opts.strategies ?? defaultStrategies(), ctx.diagnosis.recommendedFixes, opts);
  const fixes: GeneratedFix[] = [];
  for (const strategy of strategies) {
    if (!strategy.applicable(ctx)) continue;
    try {
      const fix = await strategy.generate(ctx);
      if (fix !== undefined) fixes.push(fix);
    } catch (err) {
      opts.onStrategyError?.(strategy.kind, err);
    }
  }
  return fixes;
}
