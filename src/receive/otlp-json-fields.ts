import { OtlpDecodeError } from './protowire.js';

/**
 * Field readers shared by the OTLP/JSON trace and log decoders: the protobuf JSON mapping allows
 * both lowerCamelCase and the original snake_case names, and a wrong JSON type is a decode error
 * naming the field.
 */
export type JsonObject = Record<string, unknown>;

export function get(o: JsonObject, camel: string, snake: string): unknown {
  const v = o[camel];
  return v === undefined ? o[snake] : v;
}

export function asObject(v: unknown, what: string): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OtlpDecodeError(`${what}: expected an object`);
  return v as JsonObject;
}

const EMPTY: readonly unknown[] = [];

/** A repeated field: absent or null is empty. */
export function asArray(v: unknown, what: string): readonly unknown[] {
  if (v === undefined || v === null) return EMPTY;
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${what}: expected an array`);
  return v;
}

export function optString(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new OtlpDecodeError(`${what}: expected a string`);
  return v;
}
