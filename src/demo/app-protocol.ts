import { z } from 'zod';

/**
 * IPC messages between the demo (parent) and the demo application (child process). A deploy is a
 * restart: the parent checks the merge out in the app's directory and starts a new process.
 */

export const AppCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fault'), fault: z.enum(['latency', 'exception']) }),
  z.object({ type: z.literal('stop') }),
]);
export type AppCommand = z.infer<typeof AppCommandSchema>;

export const AppEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), version: z.string() }),
  z.object({ type: z.literal('fault-injected'), fault: z.enum(['latency', 'exception']) }),
]);
export type AppEvent = z.infer<typeof AppEventSchema>;

/** A command from the parent, or undefined for anything else (never throws on a bad message). */
export function parseAppCommand(raw: unknown): AppCommand | undefined {
  const r = AppCommandSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}

export function parseAppEvent(raw: unknown): AppEvent | undefined {
  const r = AppEventSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}

export const FAULTS = ['latency', 'exception'] as const;

/** DEMO_FAULTS="latency,exception": faults active from the start (a restarted app keeps them). */
export function parseFaultList(text: string | undefined): Array<(typeof FAULTS)[number]> {
  if (!text) return [];
  return text
    .split(',')
    .map((f) => f.trim())
    .filter((f): f is (typeof FAULTS)[number] => (FAULTS as readonly string[]).includes(f));
}
