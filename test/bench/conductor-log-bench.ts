/**
 * Conductor logs read back: `npx tsx test/bench/conductor-log-bench.ts [captureDir...]`.
 * For each capture of the real musical-conductor library (test/fixtures/conductor-logs, its
 * held-out/ capture and its dev/ capture in the library's development mode, by default; regenerate
 * them with capture.mjs there), reads every exported
 * shape through ingestFiles (what `ingest` and `analyze` run) without and with the declared
 * sequences (sequences.json, as `detect.sequenceFiles` would give them), and compares each beat
 * with truth.json: right when the sequence, handler, event and duration (within 1 ms of the
 * conductor's executionTime) all match. Also counts handler errors seen (the conductor swallows
 * them: they are only in its console output). Exit 1 when a shape reads below 95 %.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ingestFiles } from '../../src/receive/ingest.js';
import { loadSequenceFiles } from '../../src/detect/sequence-files.js';
import { STATUS_ERROR, type Beat } from '../../src/model/beat.js';
import { repoRoot } from './nab/corpus.js';

interface TruthBeat {
  requestId: string;
  sequence: string;
  beat: number;
  event: string;
  handler: string;
  executionTime: number;
  failed: boolean;
}

const SHAPES = ['node-stdout.log', 'node-stdout.utf16le.log', 'browser-chrome.log', 'browser-timestamped.log', 'desktop-host.log', 'events.jsonl'];

export function score(beats: Beat[], truth: TruthBeat[]): { right: number; errorsSeen: number; failed: number } {
  const byKey = new Map(beats.map((b) => [`${b.correlationId}\u0000${b.beatNumber}`, b]));
  let right = 0;
  let errorsSeen = 0;
  for (const t of truth) {
    const b = byKey.get(`${t.requestId}\u0000${t.beat}`);
    if (b === undefined) continue;
    if (b.sequence === t.sequence && b.handler === t.handler && b.event === t.event && Math.abs(b.durationMs - t.executionTime) <= 1) right++;
    if (t.failed && b.status === STATUS_ERROR) errorsSeen++;
  }
  return { right, errorsSeen, failed: truth.filter((t) => t.failed).length };
}

async function main(): Promise<number> {
  const root = repoRoot();
  const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : ['', 'held-out', 'dev'].map((d) => join(root, 'test/fixtures/conductor-logs', d));
  let worst = 1;
  for (const dir of dirs) {
    const truth = (JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { beats: TruthBeat[] }).beats;
    const declared = (await loadSequenceFiles(['sequences.json'], dir)).sequences;
    console.log(`${dir}: ${truth.length} beats played by musical-conductor`);
    console.log(`  ${'shape'.padEnd(26)} ${'read'.padStart(5)} ${'right'.padStart(14)} ${'right, declared'.padStart(16)} ${'errors seen'.padStart(12)}`);
    for (const shape of SHAPES) {
      const figures = [];
      for (const withDeclared of [false, true]) {
        const beats: Beat[] = [];
        const summary = await ingestFiles([join(dir, shape)], { onBeats: (b) => beats.push(...b), ...(withDeclared ? { declared } : {}) });
        figures.push({ beats, summary, ...score(beats, truth) });
      }
      const [plain, decl] = figures as [(typeof figures)[0], (typeof figures)[0]];
      const pct = (n: number): string => `${n}/${truth.length} ${((100 * n) / truth.length).toFixed(1)}%`;
      console.log(`  ${shape.padEnd(26)} ${String(plain.beats.length).padStart(5)} ${pct(plain.right).padStart(14)} ${pct(decl.right).padStart(16)} ${`${decl.errorsSeen}/${decl.failed}`.padStart(12)}`);
      // Console output names handlers; event payloads do not, so they are held to the declared figure.
      const bar = shape === 'events.jsonl' ? decl.right : plain.right;
      worst = Math.min(worst, bar / truth.length);
    }
  }
  console.log(`lowest share right (console shapes without, event payloads with declared sequences): ${(100 * worst).toFixed(1)} % (bar: 95 %)`);
  return worst >= 0.95 ? 0 : 1;
}

process.exitCode = await main();
