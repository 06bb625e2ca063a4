import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs } from './args.js';
import { Sidecar } from '../sidecar.js';

export const SERVE_USAGE = 'usage: self-healing serve [-c file] [--set path=value ...]';

/**
 * Runs the sidecar until SIGTERM/SIGINT, then shuts down in order (stop accepting, drain, flush
 * the forwarder and spans, close the database) and exits 0.
 */
export const serveCommand: Command = {
  summary: 'run the sidecar: OTLP receivers, detection, diagnosis, healing, admin server',
  usage: SERVE_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {}, false);
    if (values.help) {
      io.out(`${SERVE_USAGE}\n`);
      return 0;
    }
    const config = configFromArgs(values);
    const sidecar = await Sidecar.start(config);
    if (sidecar.admin) io.err(`self-healing: dashboard ${sidecar.admin.url}/\n`);
    return new Promise<number>((resolveExit) => {
      const shutdown = (signal: string) => {
        io.err(`self-healing: ${signal}, shutting down\n`);
        sidecar.stop().then(
          () => resolveExit(0),
          (err: unknown) => {
            io.err(`self-healing: shutdown failed: ${String(err)}\n`);
            resolveExit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
  },
};
