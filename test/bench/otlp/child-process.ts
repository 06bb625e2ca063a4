import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * How the OTLP benchmarks start their child processes (receivers, load generators) and wait for
 * their answers. Run as .ts under tsx or as compiled .js under dist/: children follow the same form.
 */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const execArgv = ext === '.ts' ? ['--import', 'tsx'] : [];

/** A script of this folder, in the form this process runs in. */
export const script = (name: string): string => fileURLToPath(new URL(`./${name}${ext}`, import.meta.url));

/** The child's next IPC message that `accept` takes; rejects when the child exits first. */
export function nextMessage<T>(child: ChildProcess, accept: (m: unknown) => m is T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      if (accept(m)) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`child exited (${code}) before answering`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export const isType =
  <T>(type: string) =>
  (m: unknown): m is T =>
    typeof m === 'object' && m !== null && (m as { type?: string }).type === type;
