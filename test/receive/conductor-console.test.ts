import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ConductorConsoleReader, declaredBeats } from '../../src/receive/conductor-console.js';
import { ingestFiles } from '../../src/receive/ingest.js';
import { loadSequenceFiles } from '../../src/detect/sequence-files.js';
import { STATUS_ERROR, STATUS_OK, type Beat } from '../../src/model/beat.js';
import type { Sequence } from '../../src/model/sequence.js';

// Captured from the real musical-conductor 1.4.5 by capture.mjs (see its header).
const CAPTURE = fileURLToPath(new URL('../fixtures/conductor-logs/', import.meta.url));

interface TruthBeat {
  requestId: string;
  sequence: string;
  movement: string;
  beat: number;
  event: string;
  handler: string;
  plugin: string;
  executionTime: number;
  failed: boolean;
}
const truth = (JSON.parse(readFileSync(join(CAPTURE, 'truth.json'), 'utf8')) as { beats: TruthBeat[] }).beats;

async function read(file: string, declared?: Sequence[]): Promise<Beat[]> {
  const beats: Beat[] = [];
  const summary = await ingestFiles([join(CAPTURE, file)], { onBeats: (b) => beats.push(...b), ...(declared ? { declared } : {}) });
  expect(summary.unreadFiles).toEqual([]);
  expect(summary.beats).toBe(beats.length);
  return beats;
}

function find(beats: Beat[], t: TruthBeat): Beat {
  const b = beats.find((x) => x.correlationId === t.requestId && x.beatNumber === t.beat);
  expect(b, `${t.requestId} beat ${t.beat}`).toBeDefined();
  return b!;
}

describe('conductor console output captured from the real library', () => {
  it('has failing handlers and runs of three sequences to read', () => {
    expect(truth).toHaveLength(42);
    expect(truth.filter((t) => t.failed)).toHaveLength(3);
    expect(new Set(truth.map((t) => t.sequence))).toEqual(new Set(['Canvas Component Create', 'Canvas Component Select', 'Library Load']));
  });

  for (const shape of ['node-stdout.log', 'node-stdout.utf16le.log', 'browser-chrome.log', 'browser-timestamped.log', 'desktop-host.log']) {
    it(`reads every beat of ${shape} field by field`, async () => {
      const beats = await read(shape);
      expect(beats).toHaveLength(truth.length);
      for (const t of truth) {
        const b = find(beats, t);
        expect({ sequence: b.sequence, movement: b.movement, event: b.event, handler: b.handler, plugin: b.plugin, durationMs: b.durationMs }).toEqual({
          sequence: t.sequence,
          movement: t.movement,
          event: t.event,
          handler: t.handler,
          plugin: t.plugin,
          durationMs: t.executionTime,
        });
        expect(b.status).toBe(t.failed ? STATUS_ERROR : STATUS_OK);
        if (t.failed) {
          expect(b.error?.message).toMatch(/^listener missing for component \d+$/);
          expect(b.error?.type).toBe('Error');
          expect(b.error?.stacktrace).toContain('at notifyUi');
        }
      }
    });
  }

  it('takes beat start times from the timestamps of the shapes that have them', async () => {
    for (const shape of ['browser-timestamped.log', 'desktop-host.log']) {
      const beats = await read(shape);
      const first = beats.reduce((a, b) => Math.min(a, b.startMs), Infinity);
      const last = beats.reduce((a, b) => Math.max(a, b.startMs), 0);
      // Twelve runs played within a few seconds.
      expect(last - first).toBeGreaterThan(100);
      expect(last - first).toBeLessThan(60_000);
      const byTime = beats.slice().sort((a, b) => a.startMs - b.startMs || a.beatNumber - b.beatNumber);
      expect(byTime[0]!.beatNumber).toBe(1);
    }
  });

  it('reads the event payloads, with handlers from the declared sequences', async () => {
    const declared = (await loadSequenceFiles(['sequences.json'], CAPTURE)).sequences;
    const withDeclared = await read('events.jsonl', declared);
    const plain = await read('events.jsonl');
    for (const t of truth) {
      const b = find(withDeclared, t);
      expect([b.sequence, b.movement, b.event, b.handler, b.durationMs]).toEqual([t.sequence, t.movement, t.event, t.handler, t.executionTime]);
      // The payloads name only the event; without declarations the event stands for the handler.
      expect(find(plain, t).handler).toBe(t.event);
    }
    expect(withDeclared.find((b) => b.handler === 'registerInstance')?.kind).toBe('io');
  });
});

describe("the library's development mode (ConductorLogger's nested scope lines)", () => {
  it('reads every beat of the dev capture, the extra lines not getting in the way', async () => {
    const dir = join(CAPTURE, 'dev');
    const devTruth = (JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { beats: TruthBeat[] }).beats;
    expect(readFileSync(join(dir, 'node-stdout.log'), 'utf8')).toContain('🔧 CanvasComponentPlugin.createNode');
    for (const shape of ['node-stdout.log', 'browser-chrome.log']) {
      const beats: Beat[] = [];
      await ingestFiles([join(dir, shape)], { onBeats: (b) => beats.push(...b) });
      expect(beats).toHaveLength(devTruth.length);
      for (const t of devTruth) {
        const b = find(beats, t);
        expect([b.sequence, b.event, b.handler, b.durationMs, b.status]).toEqual([t.sequence, t.event, t.handler, t.executionTime, t.failed ? STATUS_ERROR : STATUS_OK]);
      }
    }
  });
});

describe('ConductorConsoleReader', () => {
  const run = (lines: string[], opts: ConstructorParameters<typeof ConductorConsoleReader>[0] = {}): { beats: Beat[]; understood: boolean[] } => {
    const r = new ConductorConsoleReader({ defaultTimeMs: Date.UTC(2026, 0, 2), ...opts });
    const understood = lines.map((l) => r.readLine(l));
    return { beats: [...r.take(), ...r.finish()], understood };
  };

  it('reads one-line object previews, ISO prefixes and the conductor-only duration fallbacks', () => {
    const { beats, understood } = run([
      '2026-01-02T10:00:00.000Z 🎼 ExecutionQueue: Now executing "Checkout"',
      '2026-01-02T10:00:00.001Z 🎵 MovementExecutor: Starting movement "Pay" with 2 beats',
      "2026-01-02T10:00:00.002Z {sequence: 'Checkout', movement: 'Movement 1', beat: 1, type: 'UNKNOWN', timing: 'immediate', …}",
      '2026-01-02T10:00:00.002Z 🎯 Event: pay:charge',
      '2026-01-02T10:00:00.009Z ✅ Completed in 7.25ms',
      '2026-01-02T10:00:00.010Z ⏱️ PerformanceTracker: Started timing beat 2 for Checkout',
      '2026-01-02T10:00:00.010Z chunk-XYZ.js?v=3f2a1b:812 🎵 Beat 2 Started: Send (receipt) (pay:receipt)',
      '2026-01-02T10:00:00.013Z ⏱️ PerformanceTracker: Beat 2 completed in 3.50ms',
      'some application output',
    ]);
    expect(understood).toEqual([true, true, true, true, true, true, true, true, false]);
    expect(beats.map((b) => [b.sequence, b.movement, b.beatNumber, b.event, b.handler, b.durationMs])).toEqual([
      ['Checkout', 'Pay', 1, 'pay:charge', 'pay:charge', 7.25],
      ['Checkout', 'Pay', 2, 'pay:receipt', 'pay:receipt', 3.5],
    ]);
    expect(beats[1]!.startMs).toBe(Date.parse('2026-01-02T10:00:00.010Z'));
  });

  it("reads the desktop host's zone and a failed beat, and names handlers from declared sequences", () => {
    const declared = [{ id: 'checkout-symphony', name: 'Checkout', movements: [{ name: 'Pay', beats: [{ beat: 1, event: 'pay:charge', handler: 'chargeCard', kind: 'io' }] }] }] as Sequence[];
    const { beats } = run(
      [
        '[2026-01-02 12:00:00.000 +0200] [INF] Shell: 🎼 ExecutionQueue: Now executing "Checkout"',
        '[2026-01-02 12:00:00.001 +0200] [INF] Shell: ⏱️ PerformanceTracker: Started timing beat 1 for Checkout',
        '[2026-01-02 12:00:00.004 +0200] [ERR] Shell: ❌ BeatExecutor: Beat 1 (pay:charge) failed: Error: card declined',
        '[2026-01-02 12:00:00.005 +0200] [ERR] Shell: ❌ SequenceExecutor: Sequence "Checkout" failed: Error: card declined',
      ],
      { declared },
    );
    // A failed beat has no duration of its own: the timestamps give it.
    expect(beats.map((b) => [b.handler, b.durationMs, b.status])).toEqual([['chargeCard', 3, STATUS_ERROR]]);
    const r = new ConductorConsoleReader({ declared });
    for (const l of [
      '[2026-01-02 12:00:00.000 +0200] [INF] Shell: 🎼 ExecutionQueue: Now executing "Checkout"',
      '[2026-01-02 12:00:00.001 +0200] [INF] Shell: ⏱️ PerformanceTracker: Started timing beat 1 for Checkout',
      '[2026-01-02 12:00:00.003 +0200] [INF] Shell: ⏱️ PerformanceTracker: Beat 1 completed in 2.00ms',
      '[2026-01-02 12:00:00.004 +0200] [ERR] Shell: ❌ BeatExecutor: Beat 1 (pay:charge) failed: Error: card declined',
    ])
      r.readLine(l);
    const [b] = r.finish();
    expect([b!.handler, b!.kind, b!.status, b!.error?.message, b!.durationMs, b!.startMs]).toEqual(['chargeCard', 'io', STATUS_ERROR, 'Error: card declined', 2, Date.parse('2026-01-02T10:00:00.001Z')]);
  });

  it('starts a new run when a beat repeats without a run boundary, and hands out old runs before the end', () => {
    const lines: string[] = [];
    for (let i = 0; i < 70; i++) {
      lines.push('⏱️ PerformanceTracker: Started timing beat 1 for Loop', `✅ BeatExecutor: Beat 1 (loop:tick) completed in ${String(i % 5)}ms`);
      if (i % 2 === 1) lines.push('✅ SequenceExecutor: Sequence "Loop" completed in 3ms');
    }
    const r = new ConductorConsoleReader({ defaultTimeMs: 1000 });
    for (const l of lines) r.readLine(l);
    // 35 runs ended explicitly, 35 ended by the next run starting: the oldest are out already.
    const early = r.take();
    expect(early.length).toBeGreaterThan(0);
    const all = [...early, ...r.finish()];
    expect(all).toHaveLength(70);
    // Without any time in the log, beats follow one another from the file's time.
    expect(all[0]!.startMs).toBe(1000);
    expect(all[2]!.startMs).toBe(1000 + 0 + 1);
  });

  it('maps events to handlers for both the name and the id of a declared sequence', () => {
    const map = declaredBeats([{ id: 's-id', name: 'S', movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler: 'h' }] }] }] as Sequence[]);
    expect(map.get('S\u0000e')).toEqual({ handler: 'h', kind: '' });
    expect(map.get('s-id\u0000e')).toEqual({ handler: 'h', kind: '' });
  });
});
