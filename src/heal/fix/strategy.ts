import type { Anomaly } from '../../model/anomaly.js';
import type { Beat } from '../../model/beat.js';
import type { Diagnosis, FixKind } from '../../model/diagnosis.js';
import type { HealConfig } from '../../config/sections/heal.js';

export interface FixContext {
  diagnosis: Diagnosis;
  anomaly: Anomaly;
  /** A clean git worktree the strategy may edit; it is left clean again afterwards. */
  repoDir: string;
  heal: HealConfig;
  /** Production beats of the affected handler (recent window), the source of captured inputs. */
  beats: Beat[];
}

export interface FixClaims {
  latencyBudgetMs?: number;
  testFiles?: string[];
}

export interface GeneratedFix {
  kind: FixKind;
  title: string;
  description: string;
  /** Unified diff, `git apply`-able against repoDir's HEAD. */
  diff: string;
  files: string[];
  claims: FixClaims;
}

export interface FixStrategy {
  readonly kind: FixKind;
  applicable(ctx: FixContext): boolean;
  generate(ctx: FixContext): Promise<GeneratedFix | undefined>;
}

export { generateFix, orderStrategies, type GenerateFixOptions } from './generate-fix.js';
