import { OtlpDecodeError } from './protowire.js';

/** Limits on the shape of a JSON document, checked before JSON.parse builds it. */
export interface JsonBounds {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most elements: objects and arrays, plus members and array elements after the first of each. */
  maxElements: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Checks a JSON text against the bounds in one linear pass over its bytes, allocating nothing.
 *
 * JSON.parse materialises the whole document, and each small value costs far more heap than its
 * bytes: 12 MB of `{},` are 4 M objects (hundreds of MB), 5 M nested arrays are as many arrays,
 * whether or not the fields are ones the decoder reads. Counting containers and separators
 * bounds what parsing can build to a few times the element limit, so a hostile body is refused
 * (400) before it is built. The scan only counts outside strings; it does not validate the JSON,
 * JSON.parse does that afterwards.
 */
export function checkJsonBounds(bytes: Uint8Array, bounds: JsonBounds): void {
  const { maxDepth, maxElements } = bounds;
  let depth = 0;
  let elements = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      // Skip the string: a backslash escapes the next byte (also \" and \\).
      for (i++; i < n; i++) {
        const s = bytes[i]!;
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) throw new OtlpDecodeError(`JSON nested deeper than ${maxDepth} levels at byte ${i}`);
      if (++elements > maxElements) throw tooMany(maxElements, i);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COMMA) {
      if (++elements > maxElements) throw tooMany(maxElements, i);
    }
  }
}

function tooMany(max: number, at: number): OtlpDecodeError {
  return new OtlpDecodeError(`JSON holds more than ${max} elements (objects, arrays and list items) at byte ${at}`);
}
