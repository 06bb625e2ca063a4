import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, protoRoot } from '../../src/config/paths.js';

describe('package paths', () => {
  it('finds the package root and the proto folder from source', () => {
    expect(existsSync(join(packageRoot(), 'package.json'))).toBe(true);
    expect(protoRoot()).toBe(join(packageRoot(), 'proto'));
    expect(packageRoot()).toBe(packageRoot());
  });
});
