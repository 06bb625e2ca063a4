/**
 * Load generator in a process of its own: sends OTLP requests with some concurrency. Receives a
 * LoadJob from the parent, sends 'begin' after the warm-up and {type:'done', ...} at the end.
 * With `traffic` set every request is new (fresh trace ids, current timestamps: traffic.ts);
 * without it four pre-encoded bodies go round (the receiver component benchmark).
 */
import { Agent, request } from 'node:http';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { beatSpans, encodeTraceRequest } from './encode-request.js';
import { Traffic, type TrafficOptions } from './traffic.js';

export interface LoadJob {
  /** 'http' sends protobuf, 'http-json' OTLP/JSON, both to /v1/traces; 'http-logs' protobuf logs to /v1/logs. */
  protocol: 'http' | 'http-json' | 'http-logs' | 'grpc';
  port: number;
  warmupSeconds: number;
  seconds: number;
  concurrency: number;
  spansPerRequest: number;
  traffic?: TrafficOptions;
}

export interface LoadResult {
  requests: number;
  errors: number;
  firstError: string;
  /** Spans in the requests answered with success (whole run, warm-up included). */
  okSpans: number;
  /** Requests the receiver pushed back on: HTTP 429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE (also in errors). */
  refused: number;
}

/** An answer that says "overloaded, come back later", as opposed to a failure. */
class Refusal extends Error {}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

// A few different pre-encoded bodies, so caches see more than one request shape.
function bodies(spansPerRequest: number): Buffer[] {
  return [1, 2, 3, 4].map((seed) => encodeTraceRequest([beatSpans(spansPerRequest, seed, `service-${seed}`)]));
}

async function run(job: LoadJob): Promise<void> {
  const traffic = job.traffic ? new Traffic(job.traffic, job.protocol === 'http-json' ? 'json' : job.protocol === 'http-logs' ? 'logs' : 'protobuf') : undefined;
  const payloads = traffic ? [] : bodies(job.spansPerRequest);
  const contentType = job.protocol === 'http-json' ? 'application/json' : 'application/x-protobuf';
  const path = job.protocol === 'http-logs' ? '/v1/logs' : '/v1/traces';
  let sendOne: (body: Buffer) => Promise<void>;
  let close = (): void => {};
  if (job.protocol !== 'grpc') {
    const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
    close = () => agent.destroy();
    sendOne = (body) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: job.port, path, method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode === 200) resolve();
              else if (res.statusCode === 429 || res.statusCode === 503) reject(new Refusal(`HTTP ${res.statusCode}`));
              else reject(new Error(`HTTP ${res.statusCode}`));
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
  } else {
    const client = new Client(`127.0.0.1:${job.port}`, credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
    close = () => client.close();
    const id = (b: Buffer): Buffer => b;
    sendOne = (body) =>
      new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(EXPORT_PATH, id, id, body, new Metadata(), (err) => {
          if (!err) resolve();
          else if (err.code === 8 || err.code === 14) reject(new Refusal(`gRPC ${err.code} ${err.details}`));
          else reject(err);
        });
      });
  }

  const result: LoadResult = { requests: 0, errors: 0, firstError: '', okSpans: 0, refused: 0 };
  const spansPerBody = traffic ? traffic.spansPerRequest : job.spansPerRequest;
  const begin = Date.now() + job.warmupSeconds * 1000;
  const end = begin + job.seconds * 1000;
  let begun = false;
  const worker = async (w: number): Promise<void> => {
    let i = w;
    while (Date.now() < end) {
      if (!begun && Date.now() >= begin) {
        begun = true;
        process.send!('begin');
      }
      try {
        await sendOne(traffic ? traffic.body() : payloads[i++ % payloads.length]!);
        result.okSpans += spansPerBody;
        if (begun) result.requests++;
      } catch (err) {
        result.errors++;
        if (err instanceof Refusal) result.refused++;
        if (result.firstError === '') result.firstError = (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, w) => worker(w)));
  close();
  process.send!({ type: 'done', result });
}

process.once('message', (job: LoadJob) => {
  run(job).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
