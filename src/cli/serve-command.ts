import type { ParseArgsConfig } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs } from './args.js';
import { describeListenError } from './listen-error.js';
import { commandHelp } from './help.js';
import { createLogger, type Logger } from '../emit/logger.js';
import { Sidecar } from '../sidecar.js';

const OPTIONS = {} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const SERVE_USAGE = commandHelp({
  synopsis: 'self-healing serve [options]',
  description:
    'Runs the sidecar: OTLP receivers (gRPC :4317, HTTP :4318), detection, diagnosis, healing and the\n' +
    'admin server (:8787), until SIGTERM or SIGINT, then shuts down in order. Logs go to stderr.',
  options: [],
  examples: ['self-healing serve', 'self-healing serve -c sidecar.yaml --set receive.http.port=14318 --log-format pretty'],
});

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
  options: OPTIONS,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
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
