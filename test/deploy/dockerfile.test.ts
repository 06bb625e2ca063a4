import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const dockerfile = readFileSync(new URL('../../deploy/Dockerfile', import.meta.url), 'utf8');
const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);

describe('deploy/Dockerfile', () => {
  it('builds and runs on one current Node.js LTS line (an even major from 22 on)', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const majors = froms.map((image) => Number(/^node:(\d+)/.exec(image)?.[1]));
    for (const major of majors) {
      expect(major % 2).toBe(0);
      expect(major).toBeGreaterThanOrEqual(22);
    }
    expect(new Set(majors).size).toBe(1);
  });

  it('runs under an init process that reaps healing children and forwards signals', () => {
    const entry = /^ENTRYPOINT\s+(\[.*\])/m.exec(dockerfile)?.[1];
    const argv = JSON.parse(entry!) as string[];
    expect(argv.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(argv.slice(2)).toEqual(['node', 'dist/src/main.js']);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\btini\b/);
  });
});
