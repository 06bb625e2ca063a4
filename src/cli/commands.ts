import type { Io } from '../main.js';
import { configCommand } from './config-command.js';

export interface Command {
  summary: string;
  usage: string;
  /** Resolves to the exit code; a negative code means "keep running" (serve). */
  run(argv: string[], io: Io): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  config: configCommand,
};
