import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigSchema } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/emit/logger.js';
import { Sidecar } from '../../src/sidecar.js';
import { waitFor } from '../receive/harness.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A plain Node app using the OpenTelemetry SDK with nothing but the environment variables the
 * README gives: every other setting is the SDK's default (http/protobuf, OTLP exporter).
 */
const APP = `
import { NodeSDK } from '@opentelemetry/sdk-node';
import { trace } from '@opentelemetry/api';
const sdk = new NodeSDK();
sdk.start();
const tracer = trace.getTracer('readme-app');
await tracer.startActiveSpan('GET /checkout', async (root) => {
  await tracer.startActiveSpan('chargeCard', async (child) => { child.end(); });
  root.end();
});
await sdk.shutdown();
`;

describe('the README endpoints, with SDK defaults', () => {
  let dir: string;
  let scratch: string;
  let sidecar: Sidecar;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-readme-'));
    mkdirSync(join(ROOT, '.scratch'), { recursive: true });
    scratch = mkdtempSync(join(ROOT, '.scratch', 'readme-'));
    // Default configuration but free ports: in particular, emit.otlp as shipped.
    const config = ConfigSchema.parse({ receive: { grpc: { port: 0 }, http: { port: 0 } }, admin: { port: 0 }, store: { path: join(dir, 'state.db') } });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('info', {}, (l) => logs.push(l)) });
  });

  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it.each([
    ['http/protobuf (the SDK default)', (s: Sidecar) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${s.http!.port}` })],
    ['grpc', (s: Sidecar) => ({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${s.grpc!.port}` })],
  ])('an app configured only by the README variables reaches the sidecar over %s', async (protocol, envFor) => {
    const service = `readme-app-${protocol.startsWith('grpc') ? 'grpc' : 'http'}`;
    // Inside the project (.scratch/ is git-ignored) so the app resolves the SDK from node_modules.
    const file = join(scratch, `${service}.mjs`);
    writeFileSync(file, APP);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, OTEL_SERVICE_NAME: service, OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...envFor(sidecar) };
    await run(process.execPath, [file], { cwd: ROOT, env, timeout: 60_000 });
    await waitFor(() => sidecar.engine.handlerFigures().some((f) => f.service === service && f.handler === 'chargeCard'), 20_000);
    expect(sidecar.engine.handlerFigures().filter((f) => f.service === service).map((f) => f.handler)).toEqual(['chargeCard']);
    // The root span is the request: it is the sequence the handler ran in.
    await waitFor(() => sidecar.engine.sequenceFigures().some((f) => f.service === service && f.sequence === 'GET /checkout'), 20_000);
  });

  it('exports none of its own spans with the default configuration, so it never watches itself', () => {
    expect(sidecar.emitter).toBeUndefined();
    expect(sidecar.engine.handlerFigures().some((f) => f.service === sidecar.config.serviceName)).toBe(false);
  });

  it("refuses, with a warning, an endpoint that is one of its own receivers", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = loadConfig({
      sets: ['receive.grpc.enabled=false', `receive.http.port=${port}`, 'admin.enabled=false', `store.path=${join(dir, 'own.db')}`],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://localhost:${port}` },
    });
    const lines: string[] = [];
    const own = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('warn', {}, (l) => lines.push(l)) });
    try {
      expect(own.emitter).toBeUndefined();
      expect(lines.join('')).toContain("one of the sidecar's own receivers");
    } finally {
      await own.stop();
    }
  });
});
