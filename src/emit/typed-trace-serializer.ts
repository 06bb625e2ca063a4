import protobuf from 'protobufjs';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer, type ISerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import { protoRoot } from '../config/paths.js';

let requestType: protobuf.Type | undefined;

function exportRequestType(): protobuf.Type {
  if (requestType === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(protoRoot(), target);
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
    requestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  }
  return requestType;
}

interface AnyValueMsg {
  intValue?: unknown;
  doubleValue?: number;
}
interface KeyValueMsg {
  key: string;
  value?: AnyValueMsg;
}
interface SpanMsg {
  attributes?: KeyValueMsg[];
  events?: Array<{ attributes?: KeyValueMsg[] }>;
  links?: Array<{ attributes?: KeyValueMsg[] }>;
}
interface RequestMsg {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: SpanMsg[] }> }>;
}

/** Turns integral values of declared doubles into double_value; returns how many changed. */
function retype(kvs: KeyValueMsg[] | undefined, isDouble: (name: string) => boolean): number {
  let changed = 0;
  for (const kv of kvs ?? []) {
    const v = kv.value;
    if (v === undefined || !Object.prototype.hasOwnProperty.call(v, 'intValue') || !isDouble(kv.key)) continue;
    const n = Number(String(v.intValue));
    delete v.intValue;
    v.doubleValue = n;
    changed++;
  }
  return changed;
}

/**
 * The OpenTelemetry protobuf trace serializer with stable attribute types: the request it encodes
 * is decoded once more (with the project's OTLP .proto files), attributes declared double that the
 * SDK encoded as int_value are re-typed, and the request is encoded again. Only requests that had
 * such a value are re-encoded; the sidecar's spans are few, so the extra pass is cheap.
 */
export function typedTraceSerializer(isDouble: (name: string) => boolean): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  return {
    serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined {
      const bytes = ProtobufTraceSerializer.serializeRequest(spans);
      if (bytes === undefined) return undefined;
      const type = exportRequestType();
      const msg = type.decode(bytes) as unknown as RequestMsg;
      let changed = 0;
      for (const rs of msg.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            changed += retype(s.attributes, isDouble);
            for (const e of s.events ?? []) changed += retype(e.attributes, isDouble);
            for (const l of s.links ?? []) changed += retype(l.attributes, isDouble);
          }
        }
      }
      return changed === 0 ? bytes : type.encode(msg as unknown as protobuf.Message).finish();
    },
    deserializeResponse(data: Uint8Array): IExportTraceServiceResponse {
      return ProtobufTraceSerializer.deserializeResponse(data);
    },
  };
}
