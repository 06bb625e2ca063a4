import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/** Just the parts of the OTLP trace protocol the tests look at, written from the spec's field numbers. */
const OTLP_SUBSET = `
syntax = "proto3";
package otlpsubset;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; repeated Link links = 13; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; repeated KeyValue attributes = 4; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; }
}
message ArrayValue { repeated AnyValue values = 1; }
`;

export type Value = string | number | boolean | Value[];
export interface ReceivedSpan {
  service: string;
  scope: string;
  scopeVersion: string;
  schemaUrl: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startMs: number;
  endMs: number;
  attributes: Record<string, Value>;
  /** Which AnyValue field carried each attribute (int and double both decode to a number). */
  attributeTypes: Record<string, 'string' | 'bool' | 'int' | 'double' | 'array' | 'none'>;
  events: Array<{ name: string; timeMs: number; attributes: Record<string, Value> }>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, Value> }>;
  status: { code: number; message: string };
}

interface AnyValueMsg {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValueMsg[] };
}
interface KeyValueMsg {
  key: string;
  value?: AnyValueMsg;
}

function value(v: AnyValueMsg | undefined): Value {
  if (v === undefined) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return (v.arrayValue?.values ?? []).map(value);
}

function valueType(v: AnyValueMsg | undefined): ReceivedSpan['attributeTypes'][string] {
  if (v?.stringValue !== undefined) return 'string';
  if (v?.boolValue !== undefined) return 'bool';
  if (v?.intValue !== undefined) return 'int';
  if (v?.doubleValue !== undefined) return 'double';
  return v?.arrayValue !== undefined ? 'array' : 'none';
}

function attrs(kvs: KeyValueMsg[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of kvs ?? []) out[kv.key] = value(kv.value);
  return out;
}

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');
const ms = (n: number | string | undefined): number => Number(n ?? 0) / 1e6;

/** A real OTLP/gRPC TraceService receiver on 127.0.0.1 that keeps decoded spans. */
export class OtlpTestReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server = new Server();
  port = 0;

  async start(): Promise<void> {
    const root = protobuf.parse(OTLP_SUBSET).root;
    const Req = root.lookupType('otlpsubset.ExportTraceServiceRequest');
    const def: ServiceDefinition = {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (x: Buffer) => x,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: () => Buffer.alloc(0),
        responseDeserialize: (b: Buffer) => b,
      },
    };
    const impl: UntypedServiceImplementation = {
      Export: (call: { request: Buffer }, cb: (err: null, res: Buffer) => void) => {
        const msg = Req.toObject(Req.decode(call.request), { longs: String, defaults: false }) as {
          resourceSpans?: Array<{
            resource?: { attributes?: KeyValueMsg[] };
            scopeSpans?: Array<{ scope?: { name?: string; version?: string }; schemaUrl?: string; spans?: Array<Record<string, never>> }>;
          }>;
        };
        for (const rs of msg.resourceSpans ?? []) {
          const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) this.spans.push({ ...toSpan(service, ss.scope?.name ?? '', s), scopeVersion: ss.scope?.version ?? '', schemaUrl: ss.schemaUrl ?? '' });
          }
        }
        cb(null, Buffer.alloc(0));
      },
    };
    this.server.addService(def, impl);
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded protobufjs object
function toSpan(service: string, scope: string, s: any): Omit<ReceivedSpan, 'scopeVersion' | 'schemaUrl'> {
  return {
    service,
    scope,
    traceId: hex(s.traceId),
    spanId: hex(s.spanId),
    parentSpanId: hex(s.parentSpanId),
    name: s.name ?? '',
    startMs: ms(s.startTimeUnixNano),
    endMs: ms(s.endTimeUnixNano),
    attributes: attrs(s.attributes),
    attributeTypes: Object.fromEntries(((s.attributes ?? []) as KeyValueMsg[]).map((kv) => [kv.key, valueType(kv.value)])),
    events: (s.events ?? []).map((e: { name: string; timeUnixNano: string; attributes?: KeyValueMsg[] }) => ({
      name: e.name,
      timeMs: ms(e.timeUnixNano),
      attributes: attrs(e.attributes),
    })),
    links: (s.links ?? []).map((l: { traceId: Uint8Array; spanId: Uint8Array; attributes?: KeyValueMsg[] }) => ({
      traceId: hex(l.traceId),
      spanId: hex(l.spanId),
      attributes: attrs(l.attributes),
    })),
    status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
  };
}
