import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../../src/config/schema.js';
import { engineFromConfig } from '../../src/detect/engine-from-config.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/coverage/', import.meta.url));

describe('engineFromConfig', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads declared sequences and the coverage report relative to cwd', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-engine-cfg-'));
    writeFileSync(
      join(dir, 'create.sequence.json'),
      JSON.stringify({ id: 'create', name: 'create', movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler: 'h' }] }] }),
    );
    const config = ConfigSchema.parse({ detect: { sequenceFiles: ['*.sequence.json'], coverageReport: join(FIXTURES, 'lcov.info') } });
    const built = await engineFromConfig(config, dir);
    expect(built.sequences).toBe(1);
    expect(built.coverage).toBe(true);
    expect(built.engine.stats().keys).toBe(0);
  });

  it('runs without sequences or coverage', async () => {
    const built = await engineFromConfig(ConfigSchema.parse({}), tmpdir());
    expect(built).toMatchObject({ sequences: 0, coverage: false });
  });
});
