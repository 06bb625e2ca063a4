import { z } from 'zod';

export const StoreSchema = z.strictObject({
    path: z.string().default('.self-healing/state.db').describe('SQLite database file (WAL mode); ":memory:" for none'),
  })
  .prefault({});
export type StoreConfig = z.infer<typeof StoreSchema>;
