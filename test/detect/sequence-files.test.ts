import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSequenceFiles, parseSequenceFile } from '../../src/detect/sequence-files.js';

const one = (name: string, handler = 'h'): object => ({ id: `P.${name}`, name, movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler, custom: 'kept' }] }] });

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seq-files-'));
  mkdirSync(join(dir, 'sequences/nested'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSequenceFiles', () => {
  it('loads single, array and { sequences } files matched by globs, first name wins', async () => {
    writeFileSync(join(dir, 'sequences/a.json'), JSON.stringify(one('checkout')));
    writeFileSync(join(dir, 'sequences/nested/b.json'), JSON.stringify([one('search'), one('signup')]));
    writeFileSync(join(dir, 'sequences/nested/c.json'), JSON.stringify({ sequences: [one('checkout', 'other')] }));
    writeFileSync(join(dir, 'sequences/ignored.txt'), 'x');
    const seqs = await loadSequenceFiles(['sequences/**/*.json'], dir);
    expect(seqs.map((s) => s.name)).toEqual(['checkout', 'search', 'signup']);
    expect(seqs[0]!.movements[0]!.beats[0]!.handler).toBe('h');
    expect((seqs[0]!.movements[0]!.beats[0] as Record<string, unknown>).custom).toBe('kept');
  });

  it('returns nothing for no globs or no matches', async () => {
    expect(await loadSequenceFiles([], dir)).toEqual([]);
    expect(await loadSequenceFiles(['nothing/*.json'], dir)).toEqual([]);
  });

  it('names the file and the field of an invalid sequence', async () => {
    const bad = one('x') as { movements: Array<{ beats: Array<Record<string, unknown>> }> };
    delete bad.movements[0]!.beats[0]!.handler;
    writeFileSync(join(dir, 'sequences/bad.json'), JSON.stringify(bad));
    await expect(loadSequenceFiles(['sequences/*.json'], dir)).rejects.toThrow(/bad\.json: movements\.0\.beats\.0\.handler: /);
  });

  it('names the file of invalid JSON', async () => {
    writeFileSync(join(dir, 'sequences/broken.json'), '{ "id": ');
    await expect(loadSequenceFiles(['sequences/*.json'], dir)).rejects.toThrow(/broken\.json: invalid JSON/);
  });
});

describe('parseSequenceFile', () => {
  it('prefixes the index inside arrays and { sequences }', () => {
    expect(() => parseSequenceFile(JSON.stringify([one('a'), { id: 'b', name: 'b', movements: [] }]), 'f.json')).toThrow(/f\.json: 1\.movements: /);
    expect(() => parseSequenceFile(JSON.stringify({ sequences: [{ name: 'z' }] }), 'g.json')).toThrow(/g\.json: sequences\.0\.id: /);
    expect(() => parseSequenceFile('42', 'h.json')).toThrow(/h\.json: \(root\): /);
  });
});
