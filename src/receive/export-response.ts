/**
 * Hand-written encoders for the few small messages the receivers send back, so neither receiver
 * needs a protobuf library on the response path:
 *   ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 }
 *   ExportTracePartialSuccess  { int64 rejected_spans = 1; string error_message = 2 }
 *   google.rpc.Status          { int32 code = 1; string message = 2; repeated Any details = 3 }
 *   google.protobuf.Any        { string type_url = 1; bytes value = 2 }
 *   google.rpc.RetryInfo       { Duration retry_delay = 1 }   Duration { int64 seconds = 1 }
 */

/** Empty ExportTraceServiceResponse: full success. */
const EMPTY = new Uint8Array(0);

class Writer {
  private readonly parts: number[] = [];

  varint(n: number): this {
    // Numbers here are non-negative and below 2^53; division keeps them exact past 2^31.
    while (n >= 0x80) {
      this.parts.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.parts.push(n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  finish(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** Protobuf ExportTraceServiceResponse; empty when nothing was rejected. */
export function encodeExportResponseProto(rejectedSpans: number, errorMessage: string): Buffer {
  if (rejectedSpans <= 0 && errorMessage === '') return Buffer.from(EMPTY);
  const partial = new Writer();
  if (rejectedSpans > 0) partial.tag(1, 0).varint(rejectedSpans);
  if (errorMessage !== '') partial.string(2, errorMessage);
  return new Writer().bytes(1, partial.finish()).finish();
}

/** JSON ExportTraceServiceResponse (proto3 JSON mapping: int64 as a string). */
export function encodeExportResponseJson(rejectedSpans: number, errorMessage: string): string {
  if (rejectedSpans <= 0 && errorMessage === '') return '{}';
  return JSON.stringify({ partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } });
}

/** gRPC status codes used by the receivers (google.rpc.Code). */
export const RPC_CODE = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  UNIMPLEMENTED: 12,
  NOT_FOUND: 5,
  INTERNAL: 13,
} as const;

const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

function retryInfo(seconds: number): Buffer {
  const duration = new Writer().tag(1, 0).varint(Math.max(0, Math.floor(seconds))).finish();
  return new Writer().bytes(1, duration).finish();
}

/** Protobuf google.rpc.Status, with a RetryInfo detail when retryAfterSeconds is given. */
export function encodeStatusProto(code: number, message: string, retryAfterSeconds?: number): Buffer {
  const w = new Writer();
  if (code !== 0) w.tag(1, 0).varint(code);
  if (message !== '') w.string(2, message);
  if (retryAfterSeconds !== undefined) {
    const any = new Writer().string(1, RETRY_INFO_TYPE).bytes(2, retryInfo(retryAfterSeconds)).finish();
    w.bytes(3, any);
  }
  return w.finish();
}

/** JSON google.rpc.Status. */
export function encodeStatusJson(code: number, message: string, retryAfterSeconds?: number): string {
  if (retryAfterSeconds === undefined) return JSON.stringify({ code, message });
  return JSON.stringify({ code, message, details: [{ '@type': RETRY_INFO_TYPE, retryDelay: `${Math.floor(retryAfterSeconds)}s` }] });
}
