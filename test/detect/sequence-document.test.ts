import { describe, expect, it } from 'vitest';
import {
  readSequenceDocument,
  SKIP_EMPTY_MANIFEST,
  SKIP_NOT_SEQUENCE,
  SKIP_PACKAGE_JSON,
  SKIP_TSCONFIG,
  SKIP_WORKFLOW,
  slashPath,
  type SequenceDocument,
} from '../../src/detect/sequence-document.js';
import type { Sequence } from '../../src/model/sequence.js';

// Small copies of the shapes found in the RenderX repository's json-sequences folders.
const conductorShape = {
  pluginId: 'CanvasComponentPlugin',
  id: 'canvas-component-export-symphony',
  name: 'Canvas Component Export',
  movements: [
    {
      name: 'Export',
      beats: [
        { beat: 1, event: 'canvas:component:export:collect', title: 'Collect', handler: 'collectComponents', kind: 'pure', dynamics: 'mf', timing: 'immediate' },
        { beat: 2, event: 'canvas:component:export:download', handler: 'downloadFile', kind: 'io', testFile: 'node_modules\\@renderx-plugins\\canvas-component\\__tests__\\export.spec.ts' },
      ],
    },
  ],
};

const orchestrationShape = {
  $schema: './musical-sequence.schema.json',
  name: 'orchestration-core',
  version: '0.1.0',
  movements: [
    {
      name: 'bootstrap',
      beats: [
        { name: 'scan-orchestration-files', number: 1, handler: { name: 'analysis.discovery#scanOrchestrationFiles', scope: 'orchestration', kind: 'orchestration' } },
        { name: 'index-symphonies', number: 2, handler: { name: 'analysis.discovery#indexSymphonies' }, kind: 'validation' },
      ],
    },
  ],
};

const wrappedShape = {
  $schema: 'https://json-schema.org/draft-07/schema',
  musicalSequence: {
    id: 'ac-to-test-alignment-v3',
    title: 'AC-to-Test Alignment (v3)',
    movements: [
      {
        id: 'movement-1',
        title: 'Discover & Normalize',
        beats: [
          { id: 'beat-0', title: 'Generate index', handlers: [{ script: 'scripts/generate-index.cjs' }] },
          { id: 'beat-1', title: 'Analyze', handlers: [{ script: 'scripts/analyze-tests.cjs' }, { script: 'scripts/other.cjs' }] },
        ],
      },
    ],
  },
};

function sequencesOf(doc: SequenceDocument): Sequence[] {
  if (doc.kind === 'skip') throw new Error(`skipped: ${doc.reason}`);
  return doc.sequences;
}

describe('readSequenceDocument', () => {
  it("reads MusicalConductor's own shape and keeps kinds beyond pure/stage-crew", () => {
    const [seq] = sequencesOf(readSequenceDocument(conductorShape));
    expect(seq!.id).toBe('canvas-component-export-symphony');
    expect(seq!.name).toBe('Canvas Component Export');
    const beats = seq!.movements[0]!.beats;
    expect(beats.map((b) => [b.beat, b.event, b.handler, b.kind])).toEqual([
      [1, 'canvas:component:export:collect', 'collectComponents', 'pure'],
      [2, 'canvas:component:export:download', 'downloadFile', 'io'],
    ]);
    expect((beats[0] as Record<string, unknown>).dynamics).toBe('mf');
  });

  it('writes Windows testFile paths with / separators', () => {
    const [seq] = sequencesOf(readSequenceDocument(conductorShape));
    expect(seq!.movements[0]!.beats[1]!.testFile).toBe('node_modules/@renderx-plugins/canvas-component/__tests__/export.spec.ts');
    expect(slashPath('a\\b/c')).toBe('a/b/c');
  });

  it('reads orchestration variants: number/name, no id, handler as an object', () => {
    const [seq] = sequencesOf(readSequenceDocument(orchestrationShape));
    expect(seq!.id).toBe('orchestration-core');
    expect(seq!.name).toBe('orchestration-core');
    const [a, b] = seq!.movements[0]!.beats;
    expect([a!.beat, a!.event, a!.handler, a!.kind]).toEqual([1, 'scan-orchestration-files', 'analysis.discovery#scanOrchestrationFiles', 'orchestration']);
    // The beat's own kind wins over the handler object's.
    expect([b!.beat, b!.event, b!.handler, b!.kind]).toEqual([2, 'index-symphonies', 'analysis.discovery#indexSymphonies', 'validation']);
  });

  it('unwraps a musicalSequence and numbers script beats by position', () => {
    const [seq] = sequencesOf(readSequenceDocument(wrappedShape));
    expect(seq!.id).toBe('ac-to-test-alignment-v3');
    expect(seq!.name).toBe('ac-to-test-alignment-v3');
    expect(seq!.movements[0]!.name).toBe('Discover & Normalize');
    expect(seq!.movements[0]!.beats.map((b) => [b.beat, b.event, b.handler])).toEqual([
      [1, 'beat-0', 'scripts/generate-index.cjs'],
      [2, 'beat-1', 'scripts/analyze-tests.cjs'],
    ]);
  });

  it('falls back to the handler for the event and to sequenceId / title for names', () => {
    const seqs = sequencesOf(
      readSequenceDocument([
        { id: 'dashboard.load', movements: [{ name: 'initialize', beats: [{ beat: 1, handler: 'loadBudgets', kind: 'io', number: 1 }] }] },
        { sequenceId: 'legacy', movements: [{ beats: [{ beat: '3', handler: 'h' }] }] },
        { title: 'Only a title', movements: [{ name: 'm', beats: [] }] },
      ]),
    );
    expect(seqs.map((s) => [s.id, s.name])).toEqual([
      ['dashboard.load', 'dashboard.load'],
      ['legacy', 'legacy'],
      ['Only a title', 'Only a title'],
    ]);
    expect(seqs[0]!.movements[0]!.beats[0]!.event).toBe('loadBudgets');
    expect(seqs[1]!.movements[0]!.name).toBe('movement 1');
    expect(seqs[1]!.movements[0]!.beats[0]!.beat).toBe(3);
  });

  it('reads index.json manifests: {file, handlersPath} entries, bare names and inline sequences', () => {
    const doc = readSequenceDocument({
      version: '1.0.0',
      sequences: [{ file: 'create.json', handlersPath: '@renderx-plugins/canvas-component' }, 'dashboard.load', 'sub\\other.json', conductorShape],
    });
    expect(doc.kind).toBe('manifest');
    if (doc.kind !== 'manifest') return;
    expect(doc.entries).toEqual([{ file: 'create.json', handlersPath: '@renderx-plugins/canvas-component' }, { file: 'dashboard.load.json' }, { file: 'sub/other.json' }]);
    expect(doc.sequences.map((s) => s.name)).toEqual(['Canvas Component Export']);
    // A list of sequences only is not a manifest.
    expect(readSequenceDocument({ sequences: [conductorShape] }).kind).toBe('sequences');
  });

  it('skips what is not a sequence with the exact reason', () => {
    const reason = (json: unknown): string => {
      const doc = readSequenceDocument(json);
      return doc.kind === 'skip' ? doc.reason : `not skipped (${doc.kind})`;
    };
    expect(reason({ name: '@renderx-plugins/self-healing', version: '0.1.0', scripts: { build: 'tsc' }, dependencies: {} })).toBe(SKIP_PACKAGE_JSON);
    expect(reason({ extends: '../../tsconfig.json', compilerOptions: { outDir: 'dist' } })).toBe(SKIP_TSCONFIG);
    expect(reason({ name: 'handler-implementation-workflow', type: 'workflow', phases: [{ phase: 0, steps: [] }] })).toBe(SKIP_WORKFLOW);
    expect(reason({ name: 'baseline-metrics-establish', type: 'sequence', steps: [{ order: 1, id: 'x' }] })).toBe(SKIP_WORKFLOW);
    expect(reason({ hello: 'world' })).toBe(SKIP_NOT_SEQUENCE);
    expect(reason({ sequences: [] })).toBe(SKIP_EMPTY_MANIFEST);
    expect(reason({ sequences: [42] })).toBe('sequences.0: neither a file reference (file or a name) nor a sequence (movements)');
    expect(reason(null)).toBe('null, not a sequence');
    expect(reason('text')).toBe('string, not a sequence');
    expect(reason([])).toBe('empty array, not a sequence');
    expect(reason({ id: 's', movements: [{ name: 'm', beats: [{ name: 'getClipboardText | AC-H-1', number: 1 }] }] })).toBe(
      'movements.0.beats.0: no handler (handler, handler.name, handlers[0].name or handlers[0].script)',
    );
    expect(reason({ id: 's', movements: [] })).toBe('movements: expected a non-empty array of movements');
    expect(reason({ movements: [{ beats: [] }] })).toBe('(root): no id, sequenceId, name or title');
    expect(reason({ id: 's', movements: ['x'] })).toBe('movements.0: expected a movement object');
    expect(reason({ id: 's', movements: [{ name: 'm' }] })).toBe('movements.0.beats: expected an array of beats');
    expect(reason({ id: 's', movements: [{ name: 'm', beats: [7] }] })).toBe('movements.0.beats.0: expected a beat object');
    expect(reason([conductorShape, 5])).toBe('1: expected a sequence object');
    expect(reason({ musicalSequence: { id: 'w', movements: [{ beats: [{ handlers: [] }] }] } })).toMatch(/^musicalSequence\.movements\.0\.beats\.0: no handler/);
    expect(reason({ id: 's', movements: [{ name: 'm', beats: [{ handler: 'h', kind: 'k'.repeat(65) }] }] })).toMatch(/^movements\.0\.beats\.0\.kind: /);
  });
});
