import { describe, expect, it } from 'vitest';
import { BeatSchema, type Beat } from '../../src/model/beat.js';
import { ConductorLogParser, parseTimestamp, type ConductorLineResult } from '../../src/receive/conductor-log.js';

function beatOf(r: ConductorLineResult): Beat {
  if (r.kind !== 'beat') throw new Error(`expected a beat, got ${JSON.stringify(r)}`);
  expect(() => BeatSchema.parse(r.beat)).not.toThrow();
  return r.beat;
}

const T0 = Date.parse('2026-11-25T10:00:00.000Z');

describe('ConductorLogParser JSON lines', () => {
  it('pairs beat-started with beat-completed by sequence, run and beat number', () => {
    const p = new ConductorLogParser({ service: 'canvas' });
    const started = { event: 'beat-started', sequenceName: 'Create Symphony', requestId: 'r1', beat: 1, timestamp: '2026-11-25T10:00:00.000Z' };
    expect(p.parseLine(JSON.stringify(started))).toEqual({ kind: 'context' });
    expect(p.parseLine(JSON.stringify({ ...started, requestId: 'r2', timestamp: '2026-11-25T10:00:00.005Z' }))).toEqual({ kind: 'context' });
    expect(p.pendingCount).toBe(2);
    const done = p.parseLine(
      JSON.stringify({ event: 'beat-completed', sequenceName: 'Create Symphony', requestId: 'r2', beat: 1, movement: 'Create', handler: 'createNode', pluginId: 'CanvasPlugin', beatEvent: 'canvas:create', kind: 'pure', timestamp: '2026-11-25T10:00:00.030Z' }),
    );
    expect(beatOf(done)).toEqual({
      service: 'canvas',
      serviceVersion: '',
      sequence: 'Create Symphony',
      movement: 'Create',
      beatNumber: 1,
      event: 'canvas:create',
      handler: 'createNode',
      plugin: 'CanvasPlugin',
      kind: 'pure',
      correlationId: 'r2',
      startMs: T0 + 5,
      durationMs: 25,
      status: 1,
      error: undefined,
      traceId: '',
      spanId: '',
      parentSpanId: '',
      spanName: 'canvas:create',
      attributes: {},
    });
    expect(p.pendingCount).toBe(1);
  });

  it('uses an explicit duration, with or without a started event', () => {
    const p = new ConductorLogParser();
    const b = beatOf(p.parseLine(JSON.stringify({ event: 'beat-completed', sequence: 's', beat: '2', duration: 12.5, timestamp: T0 + 100 })));
    expect([b.startMs, b.durationMs, b.handler, b.service]).toEqual([T0 + 87.5, 12.5, 'unknown_handler', 'unknown_service']);
    p.parseLine(JSON.stringify({ event: 'beat-started', sequence: 's', beat: 3, timestamp: T0 }));
    const c = beatOf(p.parseLine(JSON.stringify({ event: 'beat:completed', sequence: 's', beat: 3, durationMs: '7', timestamp: T0 + 50 })));
    expect([c.startMs, c.durationMs]).toEqual([T0, 7]);
  });

  it('turns beat-failed and error fields into error beats', () => {
    const p = new ConductorLogParser();
    const f = beatOf(p.parseLine(JSON.stringify({ type: 'beat-failed', sequenceName: 's', beat: 1, duration: 3, handler: 'save', error: { name: 'DbError', message: 'row 7 locked', stack: 'DbError\n    at save (/app/src/db.ts:3:1)' } })));
    expect(f.status).toBe(2);
    expect(f.error).toMatchObject({ type: 'DbError', message: 'row 7 locked', topFrame: 'save (/app/src/db.ts:3)' });
    const g = beatOf(p.parseLine(JSON.stringify({ event: 'beat-completed', beat: 1, duration: 3, error: 'boom 5' })));
    expect(g.error).toMatchObject({ type: 'Error', message: 'boom 5' });
    const h = beatOf(p.parseLine(JSON.stringify({ event: 'beat-failed', beat: 1, duration: 3, error: true })));
    expect(h.error).toMatchObject({ type: 'Error', message: '' });
  });

  it('reports conductor records it cannot use and ignores other JSON', () => {
    const p = new ConductorLogParser();
    expect(p.parseLine(JSON.stringify({ event: 'beat-completed', beat: 1 }))).toEqual({ kind: 'error', message: 'beat-completed: no duration and no matching beat-started' });
    expect(p.parseLine(JSON.stringify({ event: 'beat-completed', beat: -1, duration: 1 }))).toMatchObject({ kind: 'error', message: expect.stringMatching(/invalid beat number/) });
    expect(p.parseLine(JSON.stringify({ event: 'sequence-started' }))).toEqual({ kind: 'ignored' });
    expect(p.parseLine(JSON.stringify({ level: 'info' }))).toEqual({ kind: 'ignored' });
    expect(p.parseLine('{not json')).toEqual({ kind: 'ignored' });
    expect(p.parseLine('[1]')).toEqual({ kind: 'ignored' });
    expect(p.parseLine('   ')).toEqual({ kind: 'ignored' });
    expect(ConductorLogParser.isBeatEvent({ event: 'Beat_Started' })).toBe(true);
    expect(ConductorLogParser.isBeatEvent({ event: 'other' })).toBe(false);
  });

  it('forgets the oldest started beats beyond maxPending', () => {
    const p = new ConductorLogParser({ maxPending: 2 });
    for (let i = 1; i <= 3; i++) p.parseLine(JSON.stringify({ event: 'beat-started', beat: i, timestamp: T0 }));
    expect(p.pendingCount).toBe(2);
    expect(p.parseLine(JSON.stringify({ event: 'beat-completed', beat: 1, timestamp: T0 + 1 })).kind).toBe('error');
    expect(p.parseLine(JSON.stringify({ event: 'beat-completed', beat: 3, timestamp: T0 + 1 })).kind).toBe('beat');
  });
});

describe('ConductorLogParser plain lines', () => {
  it('parses beat lines with sequence and movement context', () => {
    const p = new ConductorLogParser({ defaultTimeMs: T0 });
    expect(p.parseLine('🎼 Sequence: Canvas Component Create (requestId: abc-1) started')).toEqual({ kind: 'context' });
    expect(p.parseLine('🎵 Movement 1: Create')).toEqual({ kind: 'context' });
    const b = beatOf(p.parseLine('Beat 1: canvas:component:resolve-template - Duration: 8.00ms - Handler: resolveTemplate (CanvasComponentPlugin)'));
    expect(b).toMatchObject({
      sequence: 'Canvas Component Create',
      movement: 'Create',
      beatNumber: 1,
      event: 'canvas:component:resolve-template',
      handler: 'resolveTemplate',
      plugin: 'CanvasComponentPlugin',
      correlationId: 'abc-1',
      startMs: T0 - 8,
      durationMs: 8,
      status: 1,
    });
    expect(p.parseLine('✅ Sequence: Canvas Component Create completed')).toEqual({ kind: 'context' });
    const after = beatOf(p.parseLine('Beat 2: x - Duration: 1s'));
    expect([after.sequence, after.movement, after.durationMs, after.handler]).toEqual(['', '', 1000, 'x']);
  });

  it('takes leading timestamps as the end of the beat', () => {
    const p = new ConductorLogParser();
    const b = beatOf(p.parseLine('[2026-11-25T10:00:01.000Z] INFO Beat 3: a:b - Duration: 250us - Handler: h'));
    expect([b.startMs, b.durationMs]).toEqual([T0 + 1000 - 0.25, 0.25]);
    const c = beatOf(p.parseLine('2026-11-25 10:00:02,500Z Beat 4: a:c - Duration: 2ms'));
    expect(c.startMs).toBe(T0 + 2498);
    // A later line without a timestamp uses the last one seen.
    expect(beatOf(p.parseLine('Beat 5: a:d - Duration: 1ms')).startMs).toBe(T0 + 2499);
  });

  it('marks failed beats', () => {
    const p = new ConductorLogParser();
    const a = beatOf(p.parseLine('❌ Beat 2: canvas:save - Duration: 3ms - Handler: save (Store) - Error: disk 3 full'));
    expect(a.error).toMatchObject({ type: 'Error', message: 'disk 3 full' });
    const b = beatOf(p.parseLine('Beat 2: canvas:save - Failed - Duration: 3ms'));
    expect(b.status).toBe(2);
    expect(b.error?.message).toBe('');
  });

  it('treats start lines as context, durationless beat lines as errors, other lines as ignored', () => {
    const p = new ConductorLogParser();
    expect(p.parseLine('Beat 1: canvas:x started')).toEqual({ kind: 'context' });
    expect(p.parseLine('Beat 1: canvas:x - Handler: h')).toEqual({ kind: 'error', message: 'Beat 1: no Duration' });
    expect(p.parseLine('GET /health 200 3ms')).toEqual({ kind: 'ignored' });
  });
});

describe('parseTimestamp', () => {
  it('accepts ISO strings, epoch ms and epoch seconds', () => {
    expect(parseTimestamp('2026-11-25T10:00:00.000Z')).toBe(T0);
    expect(parseTimestamp(T0)).toBe(T0);
    expect(parseTimestamp(T0 / 1000)).toBe(T0);
    expect(parseTimestamp(String(T0))).toBe(T0);
    expect(parseTimestamp('yesterday')).toBeUndefined();
    expect(parseTimestamp('')).toBeUndefined();
    expect(parseTimestamp(null)).toBeUndefined();
  });
});
