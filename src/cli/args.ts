import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/index.js';

/** Options every command takes to build its configuration. */
export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  'log-format': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  allowPositionals: boolean,
): ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof CONFIG_OPTIONS; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: argv, options: { ...CONFIG_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function configFromArgs(values: { config?: string; set?: string[]; 'log-format'?: string }, env: NodeJS.ProcessEnv = process.env): Config {
  const sets = [...(values['log-format'] !== undefined ? [`logFormat=${values['log-format']}`] : []), ...(values.set ?? [])];
  return loadConfig({ file: values.config, env, sets });
}
