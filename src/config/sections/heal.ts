import { z } from 'zod';
import { SeveritySchema } from '../../model/anomaly.js';
import { FixKindSchema } from '../../model/diagnosis.js';

export const RepositorySchema = z.strictObject({
    path: z.string().optional().describe('Local checkout of the application repository'),
    github: z.strictObject({
        owner: z.string(),
        repo: z.string(),
        baseBranch: z.string().default('main'),
        apiUrl: z.string().default('https://api.github.com'),
        tokenEnv: z.string().default('GITHUB_TOKEN').describe('Environment variable holding the GitHub token'),
        tokenFile: z.string().optional().describe('File holding the GitHub token (read once at start-up; takes precedence over tokenEnv)'),
        labels: z.array(z.string()).default(['self-healing']).describe('Labels put on every healing pull request, besides fix:<kind> and severity:<severity>'),
        mergeMethod: z.enum(['merge', 'squash', 'rebase']).default('merge'),
        maxRetries: z.number().int().min(0).default(3).describe('Retries of one GitHub request after a network error, 5xx or rate limit'),
        maxRetryWaitMs: z.number().int().positive().default(120_000).describe('Longest rate-limit wait inside one request; a longer one fails the stage, which the queue retries later'),
        checksWaitMs: z.number().int().min(0).default(0).describe('How long one deploy attempt polls pending checks before handing back to the queue (0: read once). A long wait holds a worker and delays shutdown'),
        checksPollMs: z.number().int().positive().default(15_000).describe('Interval between check reads while waiting'),
        deployTrigger: z
          .strictObject({
            workflow: z.string().optional().describe('Workflow file (e.g. deploy.yml) dispatched with workflow_dispatch after a merge'),
            ref: z.string().optional().describe('Ref the workflow runs on (default: the base branch)'),
            inputs: z.record(z.string(), z.string()).default({}).describe('workflow_dispatch inputs'),
            environment: z.string().optional().describe('Create a GitHub deployment for the merge commit in this environment'),
          })
          .optional(),
      })
      .optional(),
    baseBranch: z.string().default('main'),
    testCommand: z.string().default('npm test'),
    testTimeoutMs: z.number().int().positive().default(600_000),
    perfCommand: z.string().optional().describe('Runs only some test files for the performance check; {files} is replaced by the quoted paths (default: testCommand followed by the paths)'),
    coverageReport: z.string().default('coverage/coverage-final.json'),
    handlerGlobs: z.array(z.string()).default(['src/**/*.ts', 'src/**/*.js']),
    sequenceGlobs: z.array(z.string()).default(['**/*.sequence.json']),
  })
  .prefault({});

export const HealSchema = z.strictObject({
    enabled: z.boolean().default(true),
    concurrency: z.number().int().positive().default(1),
    maxAttempts: z.number().int().positive().default(3).describe('Attempts of one stage that fail (throw) before the job is parked'),
    maxLostAttempts: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('Attempts of one stage lost with their worker (crash, kill -9) before the job is parked; such a job resumes when the sidecar starts again'),
    backoffMs: z.number().int().positive().default(2_000),
    policy: z.strictObject({
        mode: z
          .enum(['dry-run', 'propose', 'auto'])
          .default('propose')
          .describe('propose: branch + PR record, a human merges; auto: also merges what autoMerge allows (local backend; GitHub uses githubMode)'),
        autoMerge: z
          .partialRecord(FixKindSchema, z.array(SeveritySchema))
          .default({})
          .describe('Opt-in per fix kind: the severities at which auto may merge it, e.g. {guard: [high, critical]}. Empty: nothing is merged without a human. A code fix without a proven reproduction is never merged'),
        githubMode: z.enum(['dry-run', 'propose', 'auto']).default('dry-run').describe('Mode used instead of mode when the backend is GitHub: opt in to propose/auto explicitly'),
      })
      .prefault({}),
    observationMs: z.number().int().positive().default(120_000).describe('How long learning.track watches after a deploy'),
    leaseMs: z.number().int().positive().default(60_000).describe('A running job is reclaimed by another worker once its lease expires (renewed while a stage runs)'),
    pollMs: z.number().int().positive().default(1_000).describe('How often the worker loop looks for due jobs'),
    workDir: z.string().optional().describe('Parent directory for temporary git worktrees (default: the OS temp dir)'),
    validation: z
      .strictObject({
        minLineCoverage: z.number().min(0).max(100).default(0).describe('Line coverage (%) the patched tree must reach; 0 disables the check'),
        requireCoverage: z.boolean().default(false).describe('Fail validation when no coverage report is found'),
        perfTolerancePct: z.number().min(0).default(10).describe('How much slower (%) the claimed tests may run after the fix than before it'),
        maxOutputBytes: z.number().int().positive().default(1_000_000).describe('Test output kept in memory; only the tail is stored'),
        passEnv: z
          .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'an environment variable name, or a prefix ending in *'))
          .default([])
          .describe('Environment variables the test command gets besides PATH, HOME, USER, SHELL, LANG, LC_*, TZ, CI, TERM, TMPDIR and NODE_* (not NODE_OPTIONS): the repository\'s own settings, e.g. DATABASE_URL or MYAPP_*. Nothing else reaches it'),
      })
      .prefault({}),
    learning: z
      .strictObject({
        alpha: z.number().gt(0).lt(1).default(0.05).describe('Significance level of the before/after tests'),
        minSamples: z.number().int().positive().default(8).describe('Fewer samples on either side gives verdict insufficient-data'),
        minRelativeChange: z.number().min(0).default(0.1).describe('A latency change counts only when p50 or p95 moved by at least this fraction (and minAbsoluteMs)'),
        minAbsoluteMs: z.number().min(0).default(1).describe('... and by at least this many milliseconds'),
        minErrorRateChange: z.number().min(0).max(1).default(0.01).describe('An error-rate change counts only when it moved by at least this much (0.01 = one percentage point)'),
        revertOnWorse: z.boolean().default(true).describe('Open (and on the local backend merge) a revert when a deployed fix made things worse'),
      })
      .prefault({}),
    fix: z
      .strictObject({
        llm: z
          .strictObject({
            baseUrl: z.string().min(1).describe('OpenAI-compatible API base, e.g. http://127.0.0.1:11434/v1; the LLM strategy is off unless this section is set'),
            model: z.string().min(1),
            apiKeyEnv: z.string().optional().describe('Environment variable holding the API key (the key never appears in config)'),
            timeoutMs: z.number().int().positive().default(60_000),
            maxTokens: z.number().int().positive().default(2_000),
            temperature: z.number().min(0).max(2).default(0),
          })
          .optional(),
      })
      .prefault({}),
    repository: RepositorySchema,
  })
  .prefault({});
export type HealConfig = z.infer<typeof HealSchema>;
