import { z } from 'zod';

export const RepositorySchema = z.strictObject({
    path: z.string().optional().describe('Local checkout of the application repository'),
    github: z.strictObject({
        owner: z.string(),
        repo: z.string(),
        baseBranch: z.string().default('main'),
        apiUrl: z.string().default('https://api.github.com'),
        tokenEnv: z.string().default('GITHUB_TOKEN').describe('Environment variable holding the GitHub token'),
        tokenFile: z.string().optional(),
      })
      .optional(),
    baseBranch: z.string().default('main'),
    testCommand: z.string().default('npm test'),
    testTimeoutMs: z.number().int().positive().default(600_000),
    coverageReport: z.string().default('coverage/coverage-final.json'),
    handlerGlobs: z.array(z.string()).default(['src/**/*.ts', 'src/**/*.js']),
    sequenceGlobs: z.array(z.string()).default(['**/*.sequence.json']),
  })
  .prefault({});

export const HealSchema = z.strictObject({
    enabled: z.boolean().default(true),
    concurrency: z.number().int().positive().default(1),
    maxAttempts: z.number().int().positive().default(3),
    backoffMs: z.number().int().positive().default(2_000),
    policy: z.strictObject({
        mode: z.enum(['dry-run', 'propose', 'auto']).default('auto').describe('auto merges on the local backend; GitHub defaults to dry-run'),
        autoMergeSeverities: z.array(z.enum(['low', 'medium', 'high', 'critical'])).default(['low', 'medium', 'high', 'critical']),
        autoMergeKinds: z.array(z.string()).default(['regression-test', 'guard', 'documentation', 'memoize']),
      })
      .prefault({}),
    observationMs: z.number().int().positive().default(120_000).describe('How long learning.track watches after a deploy'),
    leaseMs: z.number().int().positive().default(60_000).describe('A running job is reclaimed by another worker once its lease expires (renewed while a stage runs)'),
    pollMs: z.number().int().positive().default(1_000).describe('How often the worker loop looks for due jobs'),
    workDir: z.string().optional().describe('Parent directory for temporary git worktrees (default: the OS temp dir)'),
    validation: z
      .object({
        minLineCoverage: z.number().min(0).max(100).default(0).describe('Line coverage (%) the patched tree must reach; 0 disables the check'),
        requireCoverage: z.boolean().default(false).describe('Fail validation when no coverage report is found'),
        perfTolerancePct: z.number().min(0).default(10).describe('How much slower (%) the claimed tests may run after the fix when no budget is claimed'),
        maxOutputBytes: z.number().int().positive().default(1_000_000).describe('Test output kept in memory; only the tail is stored'),
      })
      .prefault({}),
    learning: z
      .object({
        alpha: z.number().gt(0).lt(1).default(0.05).describe('Significance level of the before/after tests'),
        minSamples: z.number().int().positive().default(8).describe('Fewer samples on either side gives verdict insufficient-data'),
        revertOnWorse: z.boolean().default(true).describe('Open (and on the local backend merge) a revert when a deployed fix made things worse'),
      })
      .prefault({}),
    repository: RepositorySchema,
  })
  .prefault({});
export type HealConfig = z.infer<typeof HealSchema>;
