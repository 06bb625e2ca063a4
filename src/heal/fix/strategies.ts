import { DocumentationStrategy } from './documentation.js';
import { GuardStrategy } from './guard.js';
import { MemoizeStrategy } from './memoize.js';
import { RegressionTestStrategy } from './regression-test.js';
import { RollbackStrategy } from './rollback.js';
import type { FixStrategy } from './strategy.js';

/** Every built-in strategy except the opt-in LLM one. */
export function defaultStrategies(): FixStrategy[] {
  return [new RegressionTestStrategy(), new GuardStrategy(), new RollbackStrategy(), new MemoizeStrategy(), new DocumentationStrategy()];
}
