import { z } from 'zod';

export const RepositorySchema = z
  .object({
    path: z.string().optional().describe('Local checkout of the application repository'),
    github: z
      .object({
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

export const HealSchema = z
  .object({
    enabled: z.boolean().default(true),
    concurrency: z.number().int().positive().default(1),
    maxAttempts: z.number().int().positive().default(3),
    backoffMs: z.number().int().positive().default(2_000),
    policy: z
      .object({
        mode: z.enum(['dry-run', 'propose', 'auto']).default('auto').describe('auto merges on the local backend; GitHub defaults to dry-run'),
        autoMergeSeverities: z.array(z.enum(['low', 'medium', 'high', 'critical'])).default(['low', 'medium', 'high', 'critical']),
        autoMergeKinds: z.array(z.string()).default(['regression-test', 'guard', 'documentation', 'memoize']),
      })
      .prefault({}),
    observationMs: z.number().int().positive().default(120_000).describe('How long learning.track watches after a deploy'),
    repository: RepositorySchema,
  })
  .prefault({});
export type HealConfig = z.infer<typeof HealSchema>;
