import { stringify } from 'yaml';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs } from './args.js';
import { configReferenceMarkdown } from '../config/reference.js';
import { redactConfig } from '../config/redact.js';

export const configCommand: Command = {
  summary: 'print the effective configuration (--print, YAML or --json) or the reference (--reference)',
  usage: 'usage: self-healing config [--print] [--json] [--reference] [-c file] [--set path=value ...]',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { print: { type: 'boolean' }, json: { type: 'boolean' }, reference: { type: 'boolean' } }, false);
    if (values.help) {
      io.out(`${this.usage}\n`);
      return 0;
    }
    if (values.reference) {
      io.out(configReferenceMarkdown());
      return 0;
    }
    // Printed configurations end up in tickets and chat: secrets never leave in them.
    const config = redactConfig(configFromArgs(values));
    io.out(values.json ? `${JSON.stringify(config, null, 2)}\n` : stringify(config));
    return 0;
  },
};
