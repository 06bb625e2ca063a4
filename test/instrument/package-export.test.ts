import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): unknown => JSON.parse(readFileSync(`${ROOT}/${path}`, 'utf8'));

interface Pkg {
  bin: Record<string, string>;
  exports: Record<string, { types: string; import: string } | string>;
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

describe('the self-healing-sidecar/musical-conductor package export', () => {
  const pkg = read('package.json') as Pkg;

  it('points at the compiled entry and its declarations, which the build emits', () => {
    const entry = pkg.exports['./musical-conductor'] as { types: string; import: string };
    // tsc maps src/x.ts to dist/src/x.js (rootDir "."); the declaration build adds dist/src/x.d.ts.
    expect(entry.import).toBe('./dist/src/instrument/musical-conductor.js');
    expect(entry.types).toBe('./dist/src/instrument/musical-conductor.d.ts');
    expect(existsSync(`${ROOT}/src/instrument/musical-conductor.ts`)).toBe(true);
    const declarations = read('.config/tsconfig.instrument.json') as { compilerOptions: Record<string, unknown>; include: string[] };
    expect(declarations.compilerOptions).toMatchObject({ declaration: true, emitDeclarationOnly: true, outDir: '../dist', rootDir: '..' });
    expect(declarations.include).toEqual(['../src/instrument/**/*.ts']);
    expect(pkg.scripts.build).toContain('tsc -p .config/tsconfig.instrument.json');
  });

  it('keeps the CLI bin, and musical-conductor stays an optional peer the sidecar never needs', () => {
    expect(pkg.bin['self-healing']).toBe('dist/src/main.js');
    expect(pkg.peerDependencies['musical-conductor']).toMatch(/^\^1\./);
    expect(pkg.peerDependenciesMeta['musical-conductor']?.optional).toBe(true);
    expect(pkg.dependencies['musical-conductor']).toBeUndefined();
    expect(pkg.dependencies['@opentelemetry/instrumentation']).toBeDefined();
  });

  it('src/instrument imports only model conventions and OpenTelemetry, never the sidecar or the library', () => {
    const files = ['beat-attributes', 'conductor-shapes', 'conductor-tracer', 'console-check', 'input-capture', 'instrument-conductor', 'instrumentation-version', 'musical-conductor', 'musical-conductor-instrumentation'];
    for (const f of files) {
      const source = readFileSync(`${ROOT}/src/instrument/${f}.ts`, 'utf8');
      for (const [, spec] of source.matchAll(/from '([^']+)'/g)) {
        expect(spec, `${f}.ts imports ${spec}`).toMatch(/^(\.\/|\.\.\/model\/(attributes|beat)\.js$|@opentelemetry\/(api|instrumentation)$)/);
      }
    }
  });
});
