import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { codeIdentifier, jsonLiteral, lineComments, quote } from '../../../src/heal/text/code-literal.js';
import { HOSTILE, HOSTILE_ENTRIES } from './hostile-corpus.js';

/** Parses `source` as TypeScript and returns the statements' kinds (syntax errors included). */
function parse(source: string): { kinds: string[]; errors: number } {
  const sf = ts.createSourceFile('x.ts', source, ts.ScriptTarget.ES2022, true);
  const errors = (sf as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics.length;
  return { kinds: sf.statements.map((s) => (ts.isVariableStatement(s) ? 'VariableStatement' : ts.SyntaxKind[s.kind])), errors };
}

describe('code literals and comments in generated tests', () => {
  it.each(HOSTILE_ENTRIES)('%s: a quoted literal is one string expression that evaluates back to the line', (_name, text) => {
    const literal = quote(text);
    const { kinds, errors } = parse(`const x = ${literal};`);
    expect(errors).toBe(0);
    expect(kinds).toEqual(['VariableStatement']);
    const value = new Function(`return ${literal};`)() as string;
    expect(value).toBe(text.replace(/[\r\n\u2028\u2029]/g, ' '));
    expect(literal).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it.each(HOSTILE_ENTRIES)('%s: JSON arguments stay one expression with the same value', (_name, text) => {
    const literal = jsonLiteral([{ name: text, nested: { [text]: 1 } }]);
    expect(parse(`const args = ${literal};`)).toEqual({ kinds: ['VariableStatement'], errors: 0 });
    expect(JSON.parse(literal)).toEqual([{ name: text, nested: { [text]: 1 } }]);
    expect(literal).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  });

  it.each(HOSTILE_ENTRIES)('%s: comment lines cannot end the comment or hide text', (_name, text) => {
    const lines = lineComments([`Production error: ${text}`, 'second']);
    expect(lines.every((l) => l.startsWith('//'))).toBe(true);
    const { kinds, errors } = parse(lines.join('\n') + '\nexport const ok = 1;');
    expect(errors).toBe(0);
    expect(kinds).toEqual(['VariableStatement']);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(lines.join('\n')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202a-\u202e\u2066-\u2069]/);
  });

  it('accepts only plain identifiers as handler names in code', () => {
    expect(codeIdentifier('createComponent')).toBe('createComponent');
    expect(codeIdentifier('$x_1')).toBe('$x_1');
    for (const bad of [...Object.values(HOSTILE), 'class', 'await', '1abc', 'a-b', '']) expect(codeIdentifier(bad)).toBeUndefined();
  });
});
