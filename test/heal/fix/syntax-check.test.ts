import { describe, expect, it } from 'vitest';
import { assertSyntax, checkFileSyntax, checkJson, checkMarkdown, checkScript, checkYaml, SyntaxCheckError, tableCells } from '../../../src/heal/fix/syntax-check.js';

describe('script syntax', () => {
  it('accepts valid TypeScript (type errors are not syntax errors) and rejects broken code with a line', () => {
    expect(checkScript('a.ts', 'const x: number = "not a number";\nexport {};\n')).toEqual([]);
    const problems = checkScript('a.ts', 'export function f() {\n  return a?.;\n}\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: 'a.ts', line: 2 });
    expect(checkScript('b.js', 'const = 1;')).not.toEqual([]);
  });
});

describe('JSON and YAML', () => {
  it('parses them', () => {
    expect(checkJson('a.json', '{"a":1}')).toEqual([]);
    expect(checkJson('a.json', '{"a":1,}')).toHaveLength(1);
    expect(checkYaml('a.yaml', 'a: 1\n---\nb: [1, 2]\n')).toEqual([]);
    expect(checkYaml('a.yaml', 'a: [1, 2\nb: 3\n').length).toBeGreaterThan(0);
  });
});

describe('Markdown structure', () => {
  it('accepts well-formed documents', () => {
    expect(checkMarkdown('a.md', '# A\n\n## B\n\n```ts\n#### not a heading\n| a |\n```\n\n| x | y |\n| --- | --- |\n| 1 | a \\| b |\n\n### C\n\n# D\n')).toEqual([]);
  });

  it('reports unclosed fences, skipped heading levels and ragged tables', () => {
    expect(checkMarkdown('a.md', '# A\n\n```\ncode\n')).toEqual([{ file: 'a.md', line: 3, message: 'code fence is never closed' }]);
    expect(checkMarkdown('a.md', '# A\n\n### C\n')).toEqual([{ file: 'a.md', line: 3, message: 'heading level 3 follows level 1' }]);
    expect(checkMarkdown('a.md', '| a | b |\n| --- | --- |\n| 1 | 2 | 3 |\n')).toEqual([{ file: 'a.md', line: 3, message: 'table row has 3 cells, header has 2' }]);
    expect(checkMarkdown('a.md', '| a | b |\n| --- |\n')).toEqual([{ file: 'a.md', line: 2, message: 'table delimiter has 1 cells, header has 2' }]);
  });

  it('splits table cells honouring escaped pipes', () => {
    expect(tableCells('| a | b \\| c |')).toEqual(['a', 'b \\| c']);
    expect(tableCells('a | b')).toEqual(['a', 'b']);
  });
});

describe('checkFileSyntax / assertSyntax', () => {
  it('dispatches on the extension and throws with every problem', () => {
    expect(checkFileSyntax('x.png', '\u0000')).toEqual([]);
    expect(checkFileSyntax('x.yml', 'a: [')).not.toEqual([]);
    expect(checkFileSyntax('x.md', '```')).not.toEqual([]);
    expect(() => assertSyntax([{ file: 'ok.json', text: '{}' }])).not.toThrow();
    let error: unknown;
    try {
      assertSyntax([
        { file: 'bad.json', text: '{' },
        { file: 'bad.ts', text: 'let = ;' },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SyntaxCheckError);
    expect((error as SyntaxCheckError).problems.map((p) => p.file)).toEqual(expect.arrayContaining(['bad.json', 'bad.ts']));
    expect((error as Error).message).toContain('bad.ts:1');
  });
});
