import { setLogger } from '@grpc/grpc-js';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs } from './args.js';
import { describeListenError } from './listen-error.js';
import { createLogger, type Logger } from '../emit/logger.js';
import { Sidecar } from '../sidecar.js';

export const SERVE_USAGE = `usage: self-healing serve [-c file] [--set path=value ...] [--log-format json|pretty]

Runs the sidecar: OTLP receivers, detection, diagnosis, healing and the admin server, until
SIGTERM or SIGINT. Logs go to stderr, one JSON object per line (--log-format pretty for a terminal).

Options:
  -c, --config <file>        YAML configuration file
  --set <path=value>         override one field (repeatable); see docs/configuration.md
  --log-format <json|pretty> log line format (logFormat)
  -h, --help                 this help

Example:
  self-healing serve --set receive.http.port=14318 --log-format pretty`;

/** grpc-js writes its own errors to the console; they go through the sidecar's log format instead. */
function routeGrpcLogs(log: Logger): void {
  const toText = (args: unknown[]): string => args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
  setLogger({
    error: (...args: unknown[]) => log.warn('grpc', { detail: toText(args) }),
    info: (...args: unknown[]) => log.debug('grpc', { detail: toText(args) }),
    debug: (...args: unknown[]) => log.debug('grpc', { detail: toText(args) }),
  });
}

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
    const log = createLogger(config.logLevel, { service: config.serviceName }, io.err, config.logFormat);
    routeGrpcLogs(log);
    let sidecar: Sidecar;
    try {
      sidecar = await Sidecar.start(config, { logger: log });
    } catch (err) {
      const listen = describeListenError(err, config);
      if (listen === undefined) throw err;
      log.error(listen);
      return 1;
    }
    if (sidecar.admin) log.info('dashboard', { url: `${sidecar.admin.url}/` });
    return new Promise<number>((resolveExit) => {
      const shutdown = (signal: string) => {
        log.info('shutting down', { signal });
        sidecar.stop().then(
          () => resolveExit(0),
          (err: unknown) => {
            log.error('shutdown failed', { err });
            resolveExit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
  },
};
