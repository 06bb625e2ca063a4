import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MARKDOWN_BODY_MAX, MARKDOWN_INLINE_MAX, markdownBody, markdownInline } from '../../../src/heal/text/markdown.js';
import { FORBIDDEN_CHARS, HOSTILE_ENTRIES } from './hostile-corpus.js';

/** True when `out` is one CommonMark code span whose fence no backtick run inside can close. */
function isSealedCodeSpan(out: string): boolean {
  const m = /^(`+) ([\s\S]*) \1$/.exec(out);
  if (m === null) return false;
  const fence = m[1]!.length;
  const runs = Array.from(m[2]!.matchAll(/`+/g), (r) => r[0].length);
  return runs.every((n) => n !== fence);
}

describe('markdownInline (telemetry text in Markdown)', () => {
  it.each(HOSTILE_ENTRIES)('%s: one sealed code span, one line, no controls, no <, bounded', (_name, text) => {
    const out = markdownInline(text);
    expect(isSealedCodeSpan(out)).toBe(true);
    expect(out).not.toMatch(/[\n\r]/);
    expect(out).not.toMatch(FORBIDDEN_CHARS);
    expect(out).not.toContain('<');
    expect(Array.from(out).length).toBeLessThanOrEqual(MARKDOWN_INLINE_MAX + 20);
  });

  it('keeps ordinary text readable', () => {
    expect(markdownInline('createComponent')).toBe('` createComponent `');
    expect(markdownInline('a `b` c')).toBe('`` a `b` c ``');
    expect(markdownInline('x < y')).toBe('` x \uff1c y `');
  });

  it('seals any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const out = markdownInline(s);
        return isSealedCodeSpan(out) && !/[\n\r<]/.test(out) && !FORBIDDEN_CHARS.test(out);
      }),
      { numRuns: 500 },
    );
  });
});

describe('markdownBody (last pass over a PR body)', () => {
  it.each(HOSTILE_ENTRIES)('%s: no controls and no raw HTML survive', (_name, text) => {
    const out = markdownBody(`Intro\n\n${text}\n\nSelf-Healing-Job: j-1`);
    expect(out).not.toMatch(FORBIDDEN_CHARS);
    expect(out).not.toContain('<');
    expect(out.length).toBeLessThanOrEqual(MARKDOWN_BODY_MAX);
  });

  it('keeps line structure and our own Markdown', () => {
    expect(markdownBody('## Anomaly\r\n\r\n- id: ` a `')).toBe('## Anomaly\n\n- id: ` a `');
  });

  it('bounds a huge body', () => {
    expect(markdownBody('x\n'.repeat(100_000)).length).toBeLessThanOrEqual(MARKDOWN_BODY_MAX);
  });
});
