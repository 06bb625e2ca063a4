import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  encodeExportResponseJson,
  encodeExportResponseProto,
  encodeStatusJson,
  encodeStatusProto,
  RPC_CODE,
} from '../../src/receive/export-response.js';

// An independent reading of the same messages, written from the OTLP and googleapis protos.
const root = protobuf.parse(`
syntax = "proto3";
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Duration { int64 seconds = 1; int32 nanos = 2; }
message RetryInfo { Duration retry_delay = 1; }
`).root;
const Response = root.lookupType('ExportTraceServiceResponse');
const Status = root.lookupType('Status');
const RetryInfo = root.lookupType('RetryInfo');

describe('export responses', () => {
  it('encodes an empty protobuf response on full success', () => {
    expect(encodeExportResponseProto(0, '').length).toBe(0);
    expect(encodeExportResponseJson(0, '')).toBe('{}');
  });

  it('encodes partial success readable by protobufjs', () => {
    const decoded = Response.toObject(Response.decode(encodeExportResponseProto(3, 'spans without handler: 3')), { longs: Number });
    expect(decoded).toEqual({ partialSuccess: { rejectedSpans: 3, errorMessage: 'spans without handler: 3' } });
    const big = Response.toObject(Response.decode(encodeExportResponseProto(2 ** 40 + 5, 'é')), { longs: Number });
    expect(big).toEqual({ partialSuccess: { rejectedSpans: 2 ** 40 + 5, errorMessage: 'é' } });
    const onlyMessage = Response.toObject(Response.decode(encodeExportResponseProto(0, 'warning')), { longs: Number });
    expect(onlyMessage).toEqual({ partialSuccess: { errorMessage: 'warning' } });
  });

  it('encodes JSON partial success with int64 as a string', () => {
    expect(JSON.parse(encodeExportResponseJson(2, 'bad'))).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: 'bad' } });
  });

  it('encodes google.rpc.Status with and without RetryInfo', () => {
    const plain = Status.toObject(Status.decode(encodeStatusProto(RPC_CODE.INVALID_ARGUMENT, 'truncated span')));
    expect(plain).toEqual({ code: 3, message: 'truncated span' });
    const throttled = Status.decode(encodeStatusProto(RPC_CODE.UNAVAILABLE, 'overloaded', 7)) as unknown as {
      code: number;
      details: Array<{ type_url?: string; typeUrl?: string; value: Uint8Array }>;
    };
    expect(throttled.code).toBe(14);
    expect(throttled.details).toHaveLength(1);
    const detail = throttled.details[0]!;
    expect(detail.typeUrl ?? detail.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(RetryInfo.toObject(RetryInfo.decode(detail.value), { longs: Number })).toEqual({ retryDelay: { seconds: 7 } });
    expect(Status.toObject(Status.decode(encodeStatusProto(0, '')))).toEqual({});
  });

  it('encodes google.rpc.Status as JSON', () => {
    expect(JSON.parse(encodeStatusJson(16, 'no token'))).toEqual({ code: 16, message: 'no token' });
    expect(JSON.parse(encodeStatusJson(14, 'busy', 2))).toEqual({
      code: 14,
      message: 'busy',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }],
    });
  });
});
