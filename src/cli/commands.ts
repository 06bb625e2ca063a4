import type { ParseArgsConfig } from 'node:util';
import type { Io } from '../main.js';
import { configCommand } from './config-command.js';
import { serveCommand } from './serve-command.js';
import { ingestCommand } from './ingest-command.js';
import { analyzeCommand } from './analyze-command.js';
import { healCommand } from './heal-command.js';
import { jobsCommand } from './jobs-command.js';
import { demoCommand } from './demo-command.js';

export interface Command {
  summary: string;
  /** The full --help text (commandHelp): usage, description, every option, examples. */
  usage: string;
  /** The command's own options as parseArgs reads them (the common ones are added by parseCommandArgs). */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves to the exit code; a negative code means "keep running" (serve). */
  run(argv: string[], io: Io): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  ingest: ingestCommand,
  analyze: analyzeCommand,
  heal: healCommand,
  jobs: jobsCommand,
  demo: demoCommand,
  config: configCommand,
};
