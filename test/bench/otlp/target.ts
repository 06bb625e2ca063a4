/**
 * One benchmark target in a process of its own, so its CPU time is measured alone.
 * Usage (forked by receiver-bench.ts and otlp-bench.ts): target.ts <kind>. Messages from the parent:
 *   'begin' -> snapshot cpuUsage + counters; 'end' -> reply with the figures since 'begin';
 *   'count' -> reply with the span and request counters so far.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ConfigSchema } from '../../../src/config/schema.js';
import { createMetrics } from '../../../src/emit/metrics.js';
import type { Beat } from '../../../src/model/beat.js';
import { flowControlSettings, tuneGrpcServerSessions } from '../../../src/receive/grpc-flow-control.js';
import { GrpcReceiver } from '../../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../../src/receive/http-server.js';

export type TargetKind = 'sidecar-http' | 'sidecar-grpc' | 'sidecar-grpc-h2default' | 'noop-http' | 'noop-grpc' | 'noop-grpc-tuned' | 'protobufjs-grpc';

export interface TargetFigures {
  spans: number;
  requests: number;
  wallSeconds: number;
  cpuSeconds: number;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const kind = process.argv[2] as TargetKind;
const spansPerRequest = Number(process.argv[3] ?? 512);
let spans = 0;
let requests = 0;

function grpcServer(deserialize: (b: Buffer) => unknown, count: (req: unknown) => number, tuned = false): Promise<number> {
  const def: ServiceDefinition = {
    Export: {
      path: EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: deserialize,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  };
  const empty = Buffer.alloc(0);
  const impl: UntypedServiceImplementation = {
    Export: (call: { request: unknown }, cb: (err: null, res: Buffer) => void) => {
      requests++;
      spans += count(call.request);
      cb(null, empty);
    },
  };
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(def, impl);
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      // The same HTTP/2 windows as the sidecar's default receive.grpc.flowControlWindow.
      if (tuned && !tuneGrpcServerSessions(server, flowControlSettings(1024 * 1024))) return reject(new Error('cannot tune grpc-js sessions'));
      resolve(port);
    }),
  );
}

function protobufjsType(): protobuf.Type {
  // Walk up to the checkout: this file runs from test/bench/otlp/ (tsx) or dist/test/bench/otlp/ (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'proto', 'opentelemetry')) && dirname(dir) !== dir) dir = dirname(dir);
  const protoDir = join(dir, 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
  return root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

interface DecodedRequest {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
}

async function start(): Promise<number> {
  const config = ConfigSchema.parse({ receive: { grpc: { port: 0 }, http: { port: 0 }, maxInflightSpans: 10_000_000 } }).receive;
  const sink = (b: Beat[]): void => {
    requests++;
    spans += b.length;
  };
  switch (kind) {
    case 'sidecar-http': {
      const r = new HttpReceiver(config, sink, createMetrics(), { auth: null, tls: null });
      await r.start();
      return r.port;
    }
    case 'sidecar-grpc':
    case 'sidecar-grpc-h2default': {
      const grpc = kind === 'sidecar-grpc' ? config.grpc : { ...config.grpc, flowControlWindow: 65_535 };
      const r = new GrpcReceiver({ ...config, grpc }, sink, createMetrics(), { auth: null, tls: null });
      await r.start();
      return r.port;
    }
    case 'noop-http': {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          Buffer.concat(chunks);
          requests++;
          spans += spansPerRequest;
          res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
          res.end();
        });
      });
      server.keepAliveTimeout = 30_000;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    }
    case 'noop-grpc':
    case 'noop-grpc-tuned':
      return grpcServer(
        (b) => b,
        () => spansPerRequest,
        kind === 'noop-grpc-tuned',
      );
    case 'protobufjs-grpc': {
      const type = protobufjsType();
      return grpcServer(
        (b) => type.toObject(type.decode(b), { longs: String, bytes: String }),
        (req) => {
          let n = 0;
          for (const rs of (req as DecodedRequest).resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
          return n;
        },
      );
    }
  }
  throw new Error(`unknown target ${String(kind)}`);
}

let began = { cpu: process.cpuUsage(), at: process.hrtime.bigint(), spans: 0, requests: 0 };
process.on('message', (msg: string) => {
  if (msg === 'begin') {
    began = { cpu: process.cpuUsage(), at: process.hrtime.bigint(), spans, requests };
  } else if (msg === 'end') {
    const cpu = process.cpuUsage(began.cpu);
    const figures: TargetFigures = {
      spans: spans - began.spans,
      requests: requests - began.requests,
      wallSeconds: Number(process.hrtime.bigint() - began.at) / 1e9,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    process.send!({ type: 'figures', figures });
  } else if (msg === 'count') {
    // The end-to-end bench reads the counters and takes CPU from /proc itself.
    process.send!({ type: 'count', spans, requests });
  } else if (msg === 'exit') {
    process.exit(0);
  }
});

start().then(
  (port) => process.send!({ type: 'ready', port }),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
