import { z } from 'zod';
import { SeveritySchema } from '../../model/anomaly.js';

export const NotifyTargetSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, - and _ (it is a metric label)').describe('Short name, used in logs and as the metric label'),
  url: z.string().url().describe('json: the webhook URL; alertmanager: the Alertmanager base URL (POST <url>/api/v2/alerts)'),
  format: z.enum(['json', 'alertmanager']).default('json').describe('json: one signed JSON event per request; alertmanager: Alertmanager API v2 alerts'),
  events: z
    .array(z.string())
    .default(['incident.*', 'anomaly.opened', 'anomaly.resolved'])
    .describe('Event kinds to send; "x.*" matches a prefix'),
  minSeverity: SeveritySchema.default('medium').describe('Events about anomalies and incidents below this severity are not sent'),
  secretEnv: z.string().optional().describe('json format: environment variable holding the HMAC-SHA256 signing secret'),
  secretFile: z.string().optional().describe('json format: file holding the signing secret (takes precedence over secretEnv)'),
  maxAttempts: z.number().int().min(1).max(50).default(6).describe('Attempts per event before it is dead-lettered'),
  backoffMs: z.number().int().min(1).default(1000).describe('First retry delay; doubles per attempt up to 60 s'),
  timeoutMs: z.number().int().min(100).default(10_000).describe('Per-request timeout'),
  maxQueue: z.number().int().min(1).default(1000).describe('Events waiting for this target; beyond it new ones are dead-lettered'),
  resendMs: z
    .number()
    .int()
    .min(1000)
    .default(60_000)
    .describe('alertmanager format: how often firing alerts are sent again (Alertmanager expects clients to re-send active alerts)'),
});
export type NotifyTarget = z.infer<typeof NotifyTargetSchema>;

export const NotifySchema = z
  .strictObject({
    targets: z.array(NotifyTargetSchema).default([]).describe('Webhook and Alertmanager targets for anomaly and incident events'),
    publicUrl: z.string().url().optional().describe('Base URL of the dashboard as users reach it, for links in notifications'),
  })
  .prefault({})
  .superRefine((n, ctx) => {
    const seen = new Set<string>();
    n.targets.forEach((t, i) => {
      if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `duplicate target name "${t.name}"` });
      seen.add(t.name);
    });
  });
export type NotifyConfig = z.infer<typeof NotifySchema>;
