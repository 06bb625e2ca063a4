import { describe, expect, it } from 'vitest';
import { checkJsonBounds } from '../../src/receive/json-bounds.js';
import { OtlpDecodeError } from '../../src/receive/protowire.js';
import { beatSpans, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';

const check = (text: string, maxDepth = 64, maxElements = 1000): void => checkJsonBounds(Buffer.from(text), { maxDepth, maxElements });

describe('checkJsonBounds', () => {
  it('lets a real OTLP/JSON request through with room to spare', () => {
    const text = encodeTraceRequestJsonText([beatSpans(200, 1)]);
    expect(() => check(text, 16, text.length / 8)).not.toThrow();
  });

  it('refuses nesting deeper than the limit, naming the byte', () => {
    expect(() => check('[[[]]]', 3)).not.toThrow();
    expect(() => check('{"a":[[[1]]]}', 3)).toThrow(new OtlpDecodeError('JSON nested deeper than 3 levels at byte 7'));
  });

  it('counts containers and separators, not bytes', () => {
    expect(() => check('[1,2,3]', 64, 3)).not.toThrow();
    expect(() => check('[1,2,3,4]', 64, 3)).toThrow(/more than 3 elements/);
    expect(() => check('[{},{}]', 64, 3)).toThrow(/more than 3 elements/);
    expect(() => check(`["${'x'.repeat(10_000)}"]`, 64, 1)).not.toThrow();
  });

  it('ignores brackets, braces and commas inside strings, escaped quotes included', () => {
    expect(() => check('{"k":"[[[[,,,,{{{{\\"[[[[,,,\\\\"}', 2, 2)).not.toThrow();
    expect(() => check('{"k":"\\\\",",":[[]]}', 2, 10)).toThrow(/nested deeper than 2/);
  });

  it('stops a hostile body early: 4 M empty objects and 5 M nested arrays', () => {
    const objects = Buffer.concat([Buffer.from('{"x":['), Buffer.alloc(4_000_000 * 3 - 1, '{},'), Buffer.from(']}')]);
    expect(() => checkJsonBounds(objects, { maxDepth: 64, maxElements: 2_000_000 })).toThrow(/more than 2000000 elements .* at byte 3000\d{3}$/);
    const nested = Buffer.concat([Buffer.alloc(5_000_000, '['), Buffer.alloc(5_000_000, ']')]);
    expect(() => checkJsonBounds(nested, { maxDepth: 64, maxElements: 2_000_000 })).toThrow('JSON nested deeper than 64 levels at byte 64');
  });
});
