import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderScalar, replaceScalars, YamlEditError } from '../../../src/heal/text/yaml-scalar.js';
import { HOSTILE_ENTRIES } from './hostile-corpus.js';

const MANIFEST = `# the app
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app # keep this comment
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.local/app:1.1.0
        - name: side
          image: 'registry.local/side:1.1.0'
        - name: flow
          image: "registry.local/flow:1.1.0"
---
kind: ConfigMap
data: {a: "1"}
`;

const toJS = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS() as unknown);

describe('replaceScalars (YAML written by the serializer, checked by re-parsing)', () => {
  it('changes only the named scalars and keeps comments, quoting and layout', () => {
    const out = replaceScalars(MANIFEST, [
      { doc: 0, path: ['spec', 'template', 'spec', 'containers', 0, 'image'], value: 'registry.local/app:1.0.0' },
      { doc: 0, path: ['spec', 'template', 'spec', 'containers', 1, 'image'], value: 'registry.local/side:1.0.0' },
      { doc: 0, path: ['spec', 'template', 'spec', 'containers', 2, 'image'], value: 'registry.local/flow:1.0.0' },
    ]);
    expect(out).toBe(MANIFEST.replace(/:1\.1\.0/g, ':1.0.0'));
  });

  it.each(HOSTILE_ENTRIES)('%s: the manifest parses to exactly the intended change', (_name, text) => {
    const path = ['spec', 'template', 'spec', 'containers', 0, 'image'];
    const value = `registry.local/app:${text}`;
    const out = replaceScalars(MANIFEST, [{ doc: 0, path, value }]);
    const expected = toJS(MANIFEST) as Array<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>;
    expected[0]!.spec.template.spec.containers[0]!.image = value;
    expect(toJS(out)).toEqual(expected);
    expect(out).toContain('# keep this comment');
  });

  it('writes every value on one line in the original style', () => {
    expect(renderScalar('a\nb: c', 'PLAIN')).toBe('"a\\nb: c"');
    expect(renderScalar("it's", 'QUOTE_SINGLE')).toBe("'it''s'");
    expect(renderScalar('x:1', 'PLAIN')).toBe('x:1');
  });

  it('refuses a path that is not a scalar', () => {
    expect(() => replaceScalars(MANIFEST, [{ doc: 0, path: ['spec'], value: 'x' }])).toThrow(YamlEditError);
    expect(() => replaceScalars(MANIFEST, [{ doc: 5, path: ['a'], value: 'x' }])).toThrow(YamlEditError);
  });
});
