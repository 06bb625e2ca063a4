import { z } from 'zod';
import { ReceiveSchema } from './sections/receive.js';
import { AdminSchema } from './sections/admin.js';
import { ForwardSchema } from './sections/forward.js';
import { EmitSchema } from './sections/emit.js';
import { StoreSchema } from './sections/store.js';
import { DetectSchema } from './sections/detect.js';
import { HealSchema } from './sections/heal.js';
import { NotifySchema } from './sections/notify.js';
import { ClusterSchema } from './sections/cluster.js';

/** The whole configuration. Each section lives in its own file under sections/. */
export const ConfigSchema = z.strictObject({
    serviceName: z.string().default('self-healing').describe('service.name of what the sidecar emits (OTEL_SERVICE_NAME)'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info').describe('Least severe log level written (OTEL_LOG_LEVEL)'),
    logFormat: z
      .enum(['json', 'pretty'])
      .default('json')
      .describe('json: one JSON object per line on stderr (for log collectors); pretty: one readable line per record (--log-format pretty)'),
    receive: ReceiveSchema,
    admin: AdminSchema,
    forward: ForwardSchema,
    emit: EmitSchema,
    store: StoreSchema,
    detect: DetectSchema,
    heal: HealSchema,
    notify: NotifySchema,
    cluster: ClusterSchema,
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
