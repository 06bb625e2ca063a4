import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ResourceFields, UNKNOWN_SERVICE } from '../../src/receive/beat-builder.js';
import { Utf8Cache } from '../../src/receive/intern.js';
import { KeyValueReader, checkCompoundUtf8, readResource, VALUE_BOOL, VALUE_COMPOUND, VALUE_DOUBLE, VALUE_INT, VALUE_NONE, VALUE_STRING } from '../../src/receive/proto-key-value.js';
import { OtlpDecodeError, WireReader } from '../../src/receive/protowire.js';

// Messages from the project's own proto/ files (opentelemetry-proto common and resource).
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(process.cwd(), 'proto', target);
root.loadSync('opentelemetry/proto/resource/v1/resource.proto', { keepCase: false });
const KeyValue = root.lookupType('opentelemetry.proto.common.v1.KeyValue');
const Resource = root.lookupType('opentelemetry.proto.resource.v1.Resource');

function readKeyValue(kv: Record<string, unknown>): { reader: KeyValueReader; buf: Uint8Array } {
  const buf = KeyValue.encode(KeyValue.fromObject(kv)).finish();
  const reader = new KeyValueReader();
  reader.keyValue(new WireReader(buf), buf.length);
  return { reader, buf };
}

describe('KeyValueReader', () => {
  it('notes the key and each kind of value without decoding them', () => {
    const cache = new Utf8Cache(64);
    const cases: Array<[Record<string, unknown>, number, unknown]> = [
      [{ stringValue: 'main' }, VALUE_STRING, 'main'],
      [{ stringValue: 'x'.repeat(100) }, VALUE_STRING, 'x'.repeat(100)],
      [{ boolValue: true }, VALUE_BOOL, true],
      [{ intValue: -7 }, VALUE_INT, -7],
      [{ doubleValue: 1.5 }, VALUE_DOUBLE, 1.5],
      [{ arrayValue: { values: [{ intValue: 1 }] } }, VALUE_COMPOUND, undefined],
      [{ kvlistValue: { values: [] } }, VALUE_COMPOUND, undefined],
      [{ bytesValue: Buffer.from('ab') }, VALUE_COMPOUND, undefined],
    ];
    for (const [value, kind, scalar] of cases) {
      const { reader, buf } = readKeyValue({ key: 'thread.name', value });
      expect(reader.key(buf, cache)).toBe('thread.name');
      expect(reader.valueKind).toBe(kind);
      expect(reader.scalar(buf, cache, 'v')).toEqual(scalar);
    }
    const compound = readKeyValue({ key: 'k', value: { bytesValue: Buffer.from('ab') } }).reader;
    expect(compound.compoundField).toBe(7);
    expect(compound.valueEnd - compound.valueStart).toBe(2);
    const none = readKeyValue({ key: 'k' });
    expect(none.reader.valueKind).toBe(VALUE_NONE);
    expect(none.reader.scalar(none.buf, cache, 'v')).toBeUndefined();
  });

  it('refuses a value with the wrong wire type, naming the field', () => {
    // KeyValue { key = "k"; value = AnyValue { bool_value as a length-delimited field } }
    const buf = Uint8Array.from([0x0a, 0x01, 0x6b, 0x12, 0x03, 0x12, 0x01, 0x00]);
    expect(() => new KeyValueReader().keyValue(new WireReader(buf), buf.length)).toThrow(/bool_value/);
  });
});

describe('checkCompoundUtf8', () => {
  function check(value: Record<string, unknown>, patch: boolean): void {
    const buf = KeyValue.encode(KeyValue.fromObject({ key: 'k', value })).finish();
    if (patch) buf.set([0xff, 0xfe, 0xfd, 0xfc], Buffer.from(buf).indexOf('wxyz'));
    const reader = new KeyValueReader();
    const r = new WireReader(buf);
    reader.keyValue(r, buf.length);
    expect(reader.valueKind).toBe(VALUE_COMPOUND);
    const at = r.pos;
    checkCompoundUtf8(r, buf, reader);
    expect(r.pos).toBe(at);
  }
  const kvlist = { kvlistValue: { values: [{ key: 'a', value: { intValue: 1 } }, { key: 'b', value: { arrayValue: { values: [{ boolValue: true }, { stringValue: 'wxyz' }] } } }] } };
  const keyInList = { kvlistValue: { values: [{ key: 'wxyz', value: { stringValue: 'v' } }] } };

  it('accepts valid strings and keys at any depth and leaves the reader where it was', () => {
    for (const value of [kvlist, keyInList, { arrayValue: { values: [] } }, { bytesValue: Buffer.from('wxyz') }]) check(value, false);
  });

  it('refuses invalid UTF-8 in a nested string or a kvlist key; bytes are not text', () => {
    expect(() => check(kvlist, true)).toThrow(/AnyValue.string_value: invalid UTF-8/);
    expect(() => check(keyInList, true)).toThrow(/KeyValue.key: invalid UTF-8/);
    expect(() => check({ bytesValue: Buffer.from('wxyz') }, true)).not.toThrow();
  });

  it('stops checking below eight levels of nesting', () => {
    let deep: Record<string, unknown> = { stringValue: 'wxyz' };
    for (let i = 0; i < 8; i++) deep = { arrayValue: { values: [deep] } };
    expect(() => check(deep, true)).toThrow(OtlpDecodeError);
    deep = { arrayValue: { values: [deep] } };
    expect(() => check(deep, true)).not.toThrow();
  });
});

describe('readResource', () => {
  function read(attributes: Array<Record<string, unknown>>): { resource: ResourceFields; compounds: number } {
    const buf = Resource.encode(Resource.fromObject({ attributes })).finish();
    const resource = new ResourceFields();
    let compounds = 0;
    readResource(new WireReader(buf), buf, buf.length, new KeyValueReader(), new Utf8Cache(64), resource, () => compounds++);
    return { resource, compounds };
  }

  it('reads the service name and version (scalars as text), hands compound values to the caller', () => {
    const { resource, compounds } = read([
      { key: 'host.name', value: { stringValue: 'node-1' } },
      { key: 'service.name', value: { stringValue: 'cart' } },
      { key: 'service.version', value: { intValue: 7 } },
      { key: 'process.command_args', value: { arrayValue: { values: [{ stringValue: 'a' }] } } },
      { key: 'deployment.environment', value: { stringValue: 'prod' } },
    ]);
    expect([resource.service, resource.serviceVersion, resource.environment, compounds]).toEqual(['cart', '7', 'prod', 1]);
    expect(read([{ key: 'service.name', value: { stringValue: '' } }]).resource.service).toBe(UNKNOWN_SERVICE);
    expect(read([{ key: 'service.name' }]).resource.service).toBe(UNKNOWN_SERVICE);
  });

  it('refuses invalid UTF-8 in any string attribute, kept or not', () => {
    const bad = (key: string): Uint8Array => {
      const kv = KeyValue.encode(KeyValue.fromObject({ key, value: { stringValue: 'ok' } })).finish();
      const copy = Uint8Array.from(kv);
      copy[copy.length - 1] = 0xff;
      return Uint8Array.from([0x0a, copy.length, ...copy]);
    };
    for (const key of ['service.name', 'host.name']) {
      const buf = bad(key);
      expect(() => readResource(new WireReader(buf), buf, buf.length, new KeyValueReader(), new Utf8Cache(64), new ResourceFields(), () => undefined)).toThrow(OtlpDecodeError);
    }
  });
});
