#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config/index.js';
import { UsageError } from './cli/args.js';
import { COMMANDS } from './cli/commands.js';
import { VERSION } from './version.js';

const USAGE = `self-healing <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Common options:
  -c, --config <file>   YAML configuration file
  --set <path=value>    override one field (repeatable), e.g. --set receive.http.port=14318
  --log-format <fmt>    json (default: one JSON object per line on stderr) or pretty
  -h, --help            help for a command
  -V, --version         print the version and exit

Run \`self-healing <command> --help\` for a command's options and an example.
`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs one CLI invocation; resolves to the process exit code. */
export async function main(argv: string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`self-healing ${VERSION} (node ${process.versions.node})\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`self-healing: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`self-healing ${name}: ${err.message}\n`);
      return 78; // EX_CONFIG
    }
    if (err instanceof UsageError) {
      io.err(`self-healing ${name}: ${err.message}\n${command.usage}\n`);
      return 2;
    }
    io.err(`self-healing ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // serve keeps running until a signal; every other command exits with its code.
      if (code >= 0) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
