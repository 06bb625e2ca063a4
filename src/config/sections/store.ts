import { z } from 'zod';
import { RollupsSchema } from './rollups.js';

export const StoreSchema = z.strictObject({
    path: z.string().default('.self-healing/state.db').describe('SQLite database file (WAL mode); ":memory:" for none'),
    retentionDays: z.number().min(0).default(30).describe('Events, resolved anomalies, resolved incidents and finished healing jobs older than this are deleted hourly; 0 keeps everything'),
    rollups: RollupsSchema,
  })
  .prefault({});
export type StoreConfig = z.infer<typeof StoreSchema>;
