import {
  Client,
  credentials as grpcCredentials,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  status,
  type ClientReadableStream,
  type Metadata,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { EventBus, StoredEvent, Subscription } from './event-bus.js';

export const EVENTS_SUBSCRIBE_PATH = '/selfhealing.v1.Events/Subscribe';
const PROTO_RELATIVE = join('proto', 'selfhealing', 'v1', 'events.proto');

/** Wire shapes (protobufjs camelCase field names). */
export interface SubscribeRequestMessage {
  afterSeq: number;
  kinds: string[];
}
export interface EventMessage {
  seq: number;
  kind: string;
  timeUnixMs: number;
  anomalyId: string;
  diagnosisId: string;
  json: string;
}

/**
 * proto/ sits at the package root; this module runs from src/emit (tsx, vitest) or
 * dist/src/emit (built), so look upwards instead of assuming a depth.
 */
export function findEventsProto(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${PROTO_RELATIVE} above ${from}`);
}

interface Codecs {
  request: protobuf.Type;
  event: protobuf.Type;
}
let codecs: Codecs | undefined;

function loadCodecs(): Codecs {
  if (codecs === undefined) {
    const root = protobuf.loadSync(findEventsProto());
    codecs = { request: root.lookupType('selfhealing.v1.SubscribeRequest'), event: root.lookupType('selfhealing.v1.Event') };
  }
  return codecs;
}

const TO_OBJECT = { longs: Number, defaults: true, arrays: true } as const;

/** Hand-made service definition: the events path is not hot, protobufjs does the encoding. */
export function eventsServiceDefinition(): ServiceDefinition {
  const c = loadCodecs();
  return {
    Subscribe: {
      path: EVENTS_SUBSCRIBE_PATH,
      requestStream: false,
      responseStream: true,
      requestSerialize: (m: SubscribeRequestMessage) => Buffer.from(c.request.encode(c.request.fromObject(m)).finish()),
      requestDeserialize: (b: Buffer) => c.request.toObject(c.request.decode(b), TO_OBJECT) as SubscribeRequestMessage,
      responseSerialize: (m: EventMessage) => Buffer.from(c.event.encode(c.event.fromObject(m)).finish()),
      responseDeserialize: (b: Buffer) => c.event.toObject(c.event.decode(b), TO_OBJECT) as EventMessage,
    },
  };
}

export function toEventMessage(e: StoredEvent): EventMessage {
  return {
    seq: e.seq,
    kind: e.kind,
    timeUnixMs: e.timeMs,
    anomalyId: e.anomalyId ?? '',
    diagnosisId: e.diagnosisId ?? '',
    json: JSON.stringify(e.payload ?? null),
  };
}

/** Adds the Events service to a server, e.g. the OTLP gRPC receiver's, to share its port. */
export function registerEventsService(server: Server, bus: EventBus, auth?: (authorization: string | undefined) => boolean): void {
  const impl: UntypedServiceImplementation = {
    Subscribe: (call: ServerWritableStream<SubscribeRequestMessage, EventMessage>) => {
      if (auth !== undefined) {
        // Events carry diagnoses, stack traces and patches: same bearer token as the receivers.
        const header = call.metadata.get('authorization')[0];
        if (!auth(typeof header === 'string' ? header : undefined)) {
          call.emit('error', { code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
          return;
        }
      }
      let sub: Subscription | undefined = undefined;
      const stop = (): void => sub?.close();
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      call.on('drain', () => sub?.resume());
      sub = bus.subscribe(
        call.request.afterSeq,
        call.request.kinds,
        (e) => call.write(toEventMessage(e)),
        {
          onClose: (reason) => {
            if (reason === 'bus-closed') call.end();
            else {
              // The client reconnects with after_seq = its last seq and misses nothing.
              call.emit('error', {
                code: status.RESOURCE_EXHAUSTED,
                details: `event stream ended (${reason}); resubscribe with after_seq`,
              });
            }
          },
        },
      );
    },
  };
  server.addService(eventsServiceDefinition(), impl);
}

export interface EventsServerHandle {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** A standalone gRPC server with only the Events service. */
export async function startEventsServer(bus: EventBus, host = '127.0.0.1', port = 0): Promise<EventsServerHandle> {
  const server = new Server();
  registerEventsService(server, bus);
  const bound = await new Promise<number>((resolve, reject) => {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err)));
  });
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Open streams never finish by themselves; cut them after a moment.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}

type SubscribeFn = (req: SubscribeRequestMessage, metadata?: Metadata) => ClientReadableStream<EventMessage>;

/** A client for the Events service (plaintext), for tools and tests. */
export function createEventsClient(address: string): Client & { Subscribe: SubscribeFn } {
  const Ctor = makeGenericClientConstructor(eventsServiceDefinition(), 'Events');
  return new Ctor(address, grpcCredentials.createInsecure()) as unknown as Client & { Subscribe: SubscribeFn };
}
