import { classifyResourceKey, RESOURCE_SERVICE_NAME, RESOURCE_SERVICE_VERSION } from './beat-builder.js';
import { decodeUtf8, releaseInput, Utf8Cache } from './intern.js';
import { bodyText, LogBatch, LogRecordFields, type LogDecodeOptions, type LogDecodeResult } from './log-builder.js';
import { OtlpDecodeError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader, int64ToNumber } from './protowire.js';

export type { LogDecodeOptions, LogDecodeResult } from './log-builder.js';

/**
 * Decodes a protobuf ExportLogsServiceRequest straight into LogEvents: one pass over the buffer,
 * reading only the fields detection needs (field numbers from proto/opentelemetry/proto/logs/v1/
 * logs.proto) and skipping the rest by wire type. Throws OtlpDecodeError for a malformed
 * request; records that are well-formed protobuf but unusable (ids of the wrong length) are
 * counted in `rejected` instead.
 */
export function decodeLogsRequestProto(buf: Uint8Array, opts: LogDecodeOptions): LogDecodeResult {
  try {
    return new ProtoLogsDecoder(buf, opts).decode();
  } finally {
    releaseInput();
  }
}

// Decoding is synchronous, so one set of scratch objects serves every request.
const cache = new Utf8Cache(2048);
const fields = new LogRecordFields();

/** Structured bodies nest; deeper than this is flattened to a marker rather than recursed into. */
const MAX_BODY_DEPTH = 8;

class ProtoLogsDecoder {
  private readonly r: WireReader;
  private readonly batch: LogBatch;
  private service = '';
  private serviceVersion = '';
  private readonly maxAttributes: number;

  constructor(
    private readonly buf: Uint8Array,
    opts: LogDecodeOptions,
  ) {
    this.r = new WireReader(buf);
    this.batch = new LogBatch(opts.nowMs ?? Date.now());
    this.maxAttributes = opts.maxAttributesPerSpan;
  }

  decode(): LogDecodeResult {
    const r = this.r;
    const end = this.buf.length;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ExportLogsServiceRequest.resource_logs');
        const stop = r.delimited(end);
        this.resourceLogs(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return this.batch.result();
  }

  private resourceLogs(end: number): void {
    const r = this.r;
    const start = r.pos;
    this.service = '';
    this.serviceVersion = '';
    // The resource may follow its scope_logs on the wire, so find it first.
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ResourceLogs.resource');
        const stop = r.delimited(end);
        this.resource(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    r.pos = start;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ResourceLogs.scope_logs');
        const stop = r.delimited(end);
        this.scopeLogs(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
  }

  private resource(end: number): void {
    const r = this.r;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'Resource.attributes');
        const stop = r.delimited(end);
        const [key, value] = this.keyValue(stop, 0);
        r.pos = stop;
        const code = classifyResourceKey(key);
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
        if (code === RESOURCE_SERVICE_NAME) this.service = String(value);
        else if (code === RESOURCE_SERVICE_VERSION) this.serviceVersion = String(value);
      } else {
        r.skip(end);
      }
    }
  }

  private scopeLogs(end: number): void {
    const r = this.r;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ScopeLogs.log_records');
        const stop = r.delimited(end);
        this.logRecord(stop);
        r.pos = stop;
        this.batch.finishRecord(fields, this.service, this.serviceVersion);
      } else {
        r.skip(end);
      }
    }
  }

  private logRecord(end: number): void {
    const r = this.r;
    const f = fields;
    f.reset();
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      switch (field) {
        case 1:
          r.expect(WIRE_FIXED64, 'LogRecord.time_unix_nano');
          r.fixed64(end);
          f.timeLo = r.lo;
          f.timeHi = r.hi;
          break;
        case 11:
          r.expect(WIRE_FIXED64, 'LogRecord.observed_time_unix_nano');
          r.fixed64(end);
          f.observedLo = r.lo;
          f.observedHi = r.hi;
          break;
        case 2:
          r.expect(WIRE_VARINT, 'LogRecord.severity_number');
          f.severityNumber = r.varint32(end);
          break;
        case 3: {
          r.expect(WIRE_LEN, 'LogRecord.severity_text');
          const stop = r.delimited(end);
          f.severityText = cache.decode(this.buf, r.pos, stop, 'LogRecord.severity_text');
          r.pos = stop;
          break;
        }
        case 5: {
          r.expect(WIRE_LEN, 'LogRecord.body');
          const stop = r.delimited(end);
          f.body = bodyText(this.anyValue(stop, 0));
          r.pos = stop;
          break;
        }
        case 6: {
          r.expect(WIRE_LEN, 'LogRecord.attributes');
          const stop = r.delimited(end);
          if (++f.attributeCount > this.maxAttributes) {
            throw new OtlpDecodeError(`log record ${this.batch.records}: more than ${this.maxAttributes} attributes (receive.maxAttributesPerSpan)`);
          }
          const [key, value] = this.keyValue(stop, 0);
          r.pos = stop;
          if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') f.setAttribute(key, value);
          break;
        }
        case 9:
        case 10: {
          r.expect(WIRE_LEN, field === 9 ? 'LogRecord.trace_id' : 'LogRecord.span_id');
          const stop = r.delimited(end);
          f.setIdBytes(field === 9 ? 'trace' : 'span', this.buf, r.pos, stop);
          r.pos = stop;
          break;
        }
        case 12: {
          r.expect(WIRE_LEN, 'LogRecord.event_name');
          const stop = r.delimited(end);
          f.eventName = cache.decode(this.buf, r.pos, stop, 'LogRecord.event_name');
          r.pos = stop;
          break;
        }
        case 8:
          r.expect(WIRE_FIXED32, 'LogRecord.flags');
          r.skip(end);
          break;
        default:
          r.skip(end);
      }
    }
  }

  /** A KeyValue as [key, plain value]; undefined value when absent. */
  private keyValue(end: number, depth: number): [string, unknown] {
    const r = this.r;
    let key = '';
    let value: unknown = undefined;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'KeyValue.key');
        const stop = r.delimited(end);
        key = cache.decode(this.buf, r.pos, stop, 'KeyValue.key');
        r.pos = stop;
      } else if (field === 2) {
        r.expect(WIRE_LEN, 'KeyValue.value');
        const stop = r.delimited(end);
        value = this.anyValue(stop, depth);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return [key, value];
  }

  /** An AnyValue as a plain value (string, number, boolean, array, object; bytes as base64). */
  private anyValue(end: number, depth: number): unknown {
    const r = this.r;
    let value: unknown = undefined;
    let field: number;
    // A oneof: the last value on the wire wins.
    while ((field = r.tag(end)) !== 0) {
      switch (field) {
        case 1: {
          r.expect(WIRE_LEN, 'AnyValue.string_value');
          const stop = r.delimited(end);
          value = stop - r.pos <= 64 ? cache.decode(this.buf, r.pos, stop, 'AnyValue.string_value') : decodeUtf8(this.buf, r.pos, stop, 'AnyValue.string_value');
          r.pos = stop;
          break;
        }
        case 2:
          r.expect(WIRE_VARINT, 'AnyValue.bool_value');
          value = r.varint32(end) !== 0;
          break;
        case 3:
          r.expect(WIRE_VARINT, 'AnyValue.int_value');
          r.varint64(end);
          value = int64ToNumber(r.lo, r.hi);
          break;
        case 4:
          r.expect(WIRE_FIXED64, 'AnyValue.double_value');
          value = r.double(end);
          break;
        case 5:
        case 6: {
          r.expect(WIRE_LEN, field === 5 ? 'AnyValue.array_value' : 'AnyValue.kvlist_value');
          const stop = r.delimited(end);
          value = depth >= MAX_BODY_DEPTH ? '…' : field === 5 ? this.arrayValue(stop, depth + 1) : this.kvlistValue(stop, depth + 1);
          r.pos = stop;
          break;
        }
        case 7: {
          r.expect(WIRE_LEN, 'AnyValue.bytes_value');
          const stop = r.delimited(end);
          value = Buffer.from(this.buf.buffer, this.buf.byteOffset + r.pos, stop - r.pos).toString('base64');
          r.pos = stop;
          break;
        }
        default:
          r.skip(end);
      }
    }
    return value;
  }

  private arrayValue(end: number, depth: number): unknown[] {
    const r = this.r;
    const out: unknown[] = [];
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ArrayValue.values');
        const stop = r.delimited(end);
        out.push(this.anyValue(stop, depth) ?? null);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return out;
  }

  private kvlistValue(end: number, depth: number): Record<string, unknown> {
    const r = this.r;
    const out: Record<string, unknown> = {};
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'KeyValueList.values');
        const stop = r.delimited(end);
        const [key, value] = this.keyValue(stop, depth);
        r.pos = stop;
        // defineProperty: a key named __proto__ must stay a plain key.
        Object.defineProperty(out, key, { value: value ?? null, enumerable: true, writable: true, configurable: true });
      } else {
        r.skip(end);
      }
    }
    return out;
  }
}
