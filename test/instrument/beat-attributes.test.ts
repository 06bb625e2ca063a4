import { describe, expect, it } from 'vitest';
import { SequenceCatalog, beatAttributes, beatSpecs, findBeat } from '../../src/instrument/beat-attributes.js';
import { readLifecycle, readMusicalContext } from '../../src/instrument/conductor-shapes.js';

const sequence = {
  id: 'seq-id',
  name: 'Seq',
  movements: [
    { id: 'm1', name: 'One', beats: [{ beat: 1, event: 'a', handler: 'h', kind: 'pure' }, { beat: 2, event: 'b', handler: 'h' }] },
    // RenderX orchestration variant: `number` instead of `beat`, a movement known only by id.
    { id: 'm2', beats: [{ number: '3', event: 'c', handler: 'k', kind: 'io' }, null, { event: 'd' }] },
  ],
};

describe('beat attributes from the definition and _musicalContext', () => {
  it('flattens a sequence into declared beats', () => {
    expect(beatSpecs(sequence as never)).toEqual([
      { sequenceId: 'seq-id', sequenceName: 'Seq', movement: 'One', beatNumber: 1, event: 'a', handler: 'h', kind: 'pure' },
      { sequenceId: 'seq-id', sequenceName: 'Seq', movement: 'One', beatNumber: 2, event: 'b', handler: 'h', kind: '' },
      { sequenceId: 'seq-id', sequenceName: 'Seq', movement: 'm2', beatNumber: 3, event: 'c', handler: 'k', kind: 'io' },
      { sequenceId: 'seq-id', sequenceName: 'Seq', movement: 'm2', beatNumber: undefined, event: 'd', handler: '', kind: '' },
    ]);
    expect(beatSpecs({ id: 'only-id' })).toEqual([]);
  });

  it('finds the running beat of a handler bound to several beats', () => {
    const specs = beatSpecs(sequence as never);
    const ctx = (event: string, number: number) => ({ sequenceName: 'Seq', movement: 'One', beatNumber: number, event, requestId: 'r' });
    expect(findBeat(specs, 'h', ctx('b', 2))?.beatNumber).toBe(2);
    expect(findBeat(specs, 'h', ctx('a', 1))?.beatNumber).toBe(1);
    // Event known, position not: the beat with that event.
    expect(findBeat(specs, 'h', { ...ctx('b', 9), movement: 'x' })?.event).toBe('b');
    expect(findBeat(specs, 'h', undefined)?.event).toBe('a');
    expect(findBeat(specs, 'nobody', ctx('a', 1))).toBeUndefined();
  });

  it('prefers what ran over what was declared, and omits what is unknown', () => {
    const [spec] = beatSpecs(sequence as never);
    const mc = { sequenceName: 'Seq (live)', movement: 'One', beatNumber: 1, event: 'a', requestId: 'req-1' };
    expect(beatAttributes('h', 'P', spec, mc)).toEqual({
      'beat.sequence': 'Seq (live)',
      'beat.sequence.id': 'seq-id',
      'beat.movement': 'One',
      'beat.number': 1,
      'beat.event': 'a',
      'beat.handler': 'h',
      'beat.plugin': 'P',
      'beat.kind': 'pure',
      'beat.correlation_id': 'req-1',
      'code.function': 'h',
    });
    const declared = { ...spec!, kind: 'stage-crew', sequenceId: 'declared-id' };
    expect(beatAttributes('h', 'P', undefined, undefined, declared)).toMatchObject({ 'beat.kind': 'stage-crew', 'beat.sequence.id': 'declared-id', 'beat.sequence': 'Seq' });
    expect(beatAttributes('h', '', undefined, undefined)).toEqual({ 'beat.handler': 'h', 'code.function': 'h' });
  });

  it('indexes declared sequences by id and name, first one wins', () => {
    const catalog = new SequenceCatalog([sequence as never, { id: 'seq-id', name: 'Other', movements: [] }]);
    expect(catalog.get('seq-id')).toHaveLength(4);
    expect(catalog.get('Seq')).toBe(catalog.get('seq-id'));
    expect(catalog.get('Other')).toEqual([]);
    expect(catalog.get('missing')).toBeUndefined();
  });

  it('reads _musicalContext and lifecycle payloads as the library sends them, and nothing else', () => {
    const data = {
      _musicalContext: {
        sequence: { name: 'S', tempo: 120 },
        movement: { name: 'M' },
        beat: { number: 2, event: 'e', title: 'T' },
        execution: { requestId: 'seq-1796616089700-7krcy4wiw', priority: 'NORMAL' },
      },
    };
    expect(readMusicalContext(data)).toEqual({ sequenceName: 'S', movement: 'M', beatNumber: 2, event: 'e', requestId: 'seq-1796616089700-7krcy4wiw' });
    expect(readMusicalContext({ _musicalContext: { execution: {} } })).toBeUndefined();
    expect(readMusicalContext({ x: 1 })).toBeUndefined();
    expect(readMusicalContext(null)).toBeUndefined();
    expect(readMusicalContext({ _musicalContext: { beat: { number: -1 }, execution: { requestId: 7 } } })).toMatchObject({ requestId: '7', beatNumber: undefined });
    expect(readLifecycle({ sequenceName: 'S', requestId: 'r', error: 'x' })).toEqual({ sequenceName: 'S', requestId: 'r', error: 'x' });
    expect(readLifecycle({ sequenceName: 'S' })).toBeUndefined();
  });
});
