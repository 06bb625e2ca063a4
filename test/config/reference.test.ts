import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { configFields, configReferenceMarkdown } from '../../src/config/reference.js';

describe('configuration reference', () => {
  it('lists every leaf field with its env var and default', () => {
    const port = configFields().find((f) => f.path === 'receive.http.port');
    expect(port).toEqual({
      path: 'receive.http.port',
      type: 'integer (>= 0, <= 65535)',
      default: 4318,
      description: '',
      env: 'SELF_HEALING_RECEIVE__HTTP__PORT',
    });
    expect(configFields().some((f) => f.path === 'heal.repository.testCommand')).toBe(true);
  });

  it('docs/configuration.md is up to date with the schema (regenerate: self-healing config --reference > docs/configuration.md)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(configReferenceMarkdown());
  });
});
