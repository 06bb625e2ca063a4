import type { ParseArgsConfig } from 'node:util';
import { stringify } from 'yaml';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs } from './args.js';
import { commandHelp } from './help.js';
import { configReferenceMarkdown } from '../config/reference.js';
import { redactConfig } from '../config/redact.js';

const OPTIONS = { print: { type: 'boolean' }, json: { type: 'boolean' }, reference: { type: 'boolean' } } as const satisfies NonNullable<ParseArgsConfig['options']>;

export const configCommand: Command = {
  summary: 'print the effective configuration (--print, YAML or --json) or the reference (--reference)',
  usage: commandHelp({
    synopsis: 'self-healing config [--print] [--json] [--reference] [options]',
    description:
      'Prints the effective configuration (defaults < file < environment < --set), secrets redacted, as\n' +
      'YAML or JSON; or the reference of every field (the source of docs/configuration.md).',
    options: [
      ['--print', 'print the effective configuration as YAML (the default)'],
      ['--json', 'print it as JSON'],
      ['--reference', 'print the Markdown reference of every field, its default and its variable'],
    ],
    examples: ['self-healing config --print -c sidecar.yaml', 'self-healing config --reference > docs/configuration.md'],
  }),
  options: OPTIONS,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
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
