import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Beat } from '../../src/model/beat.js';
import { formatSeconds, ingestFiles, terminalProgress } from '../../src/receive/ingest.js';
import { decodeTraceRequestJson } from '../../src/receive/otlp-json.js';
import { encodeJson, realisticRequest, requestJsonObject } from './fixtures/otlp-request.js';
import { edgeRequest } from './fixtures/edge-request.js';
import { gzipSync } from 'node:zlib';
import type { LogEvent } from '../../src/model/log-event.js';

function logsRequest(service: string, bodies: string[], severity = 9): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [{ logRecords: bodies.map((b, i) => ({ timeUnixNano: String(1_700_000_000_000_000_000 + i * 1_000_000), severityNumber: severity, body: { stringValue: b } })) }],
      },
    ],
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ingest-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

function collector(): { beats: Beat[]; batches: number; sink: (b: Beat[]) => void } {
  const c = { beats: [] as Beat[], batches: 0, sink: (b: Beat[]) => {
    c.batches++;
    c.beats.push(...b);
  } };
  return c;
}

describe('ingestFiles', () => {
  it('reads collector file-exporter JSON lines with the same beats as the live decoder', async () => {
    const reqs = [realisticRequest(40, 1), realisticRequest(24, 2)];
    const file = await write('traces.jsonl', reqs.map(encodeJson).join('\n') + '\n');
    const c = collector();
    const progress: [number, number][] = [];
    const summary = await ingestFiles([file], { onBeats: c.sink, progress: (d, t) => progress.push([d, t]) });
    expect(summary).toEqual({ files: 1, lines: 2, beats: 64, logs: 0, ignored: 0, unreadFiles: [], rejected: 0, errors: [] });
    const expected = reqs.flatMap((r) => decodeTraceRequestJson(encodeJson(r), { maxAttributesPerSpan: 1024 }).beats);
    expect(c.beats).toEqual(expected);
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1]);
    expect(progress.at(-1)![1]).toBeGreaterThan(0);
  });

  it('reads a pretty-printed single request and counts rejected spans', async () => {
    const file = await write('one.json', JSON.stringify(requestJsonObject(edgeRequest()), null, 2));
    const c = collector();
    const summary = await ingestFiles([file], { onBeats: c.sink });
    expect(summary.beats).toBe(10);
    expect(summary.rejected).toBe(6);
    expect(summary.lines).toBeGreaterThan(50);
    expect(summary.errors).toEqual([{ file, line: 0, message: expect.stringMatching(/^6 spans rejected: span 8: invalid trace_id/) }]);
  });

  it('reads a pretty-printed array of requests', async () => {
    const file = await write('many.json', JSON.stringify([requestJsonObject(realisticRequest(5, 1)), requestJsonObject(realisticRequest(3, 2))], null, 1));
    const c = collector();
    expect((await ingestFiles([file], { onBeats: c.sink })).beats).toBe(8);
  });

  it('reads conductor logs, plain and JSON, in batches', async () => {
    const lines = ['🎼 Sequence: Big (requestId: r1) started', 'Movement: Main'];
    for (let i = 1; i <= 600; i++) lines.push(`2026-11-25T10:00:00.${String(i % 1000).padStart(3, '0')}Z Beat ${i}: ev:${i % 3} - Duration: 2.00ms - Handler: h${i % 3} (P)`);
    lines.push(JSON.stringify({ event: 'beat-started', sequenceName: 'J', requestId: 'x', beat: 1, timestamp: 1000 }));
    lines.push(JSON.stringify({ event: 'beat-completed', sequenceName: 'J', requestId: 'x', beat: 1, timestamp: 1040 }));
    lines.push(JSON.stringify({ level: 'info', msg: 'unrelated' }));
    lines.push('plain application output');
    const file = await write('conductor.log', lines.join('\r\n'));
    const c = collector();
    const summary = await ingestFiles([file], { onBeats: c.sink, service: 'canvas' });
    expect(summary).toMatchObject({ files: 1, lines: 606, beats: 601, rejected: 0, errors: [] });
    expect(c.batches).toBe(2);
    expect(c.beats[0]).toMatchObject({ service: 'canvas', sequence: 'Big', movement: 'Main', handler: 'h1', plugin: 'P', durationMs: 2, correlationId: 'r1' });
    expect(c.beats.at(-1)).toMatchObject({ sequence: 'J', startMs: 1000 * 1000, durationMs: 40_000 });
  });

  it('collects errors with file and line, and keeps going', async () => {
    const good = encodeJson(realisticRequest(2, 1));
    const bad = await write('bad.jsonl', [good, '{"resourceSpans": [', '{"resourceSpans": {}}', '[1,2]', 'Beat 1: x - Handler: h', good].join('\n'));
    const missing = path.join(dir, 'missing.jsonl');
    const sub = path.join(dir, 'sub');
    await mkdir(sub);
    const c = collector();
    const summary = await ingestFiles([missing, bad, sub], { onBeats: c.sink });
    expect(summary.files).toBe(1);
    expect(summary.beats).toBe(4);
    expect(summary.errors.map((e) => [path.basename(e.file), e.line])).toEqual([
      ['missing.jsonl', 0],
      ['sub', 0],
      ['bad.jsonl', 2],
      ['bad.jsonl', 3],
      // Line 4 ("[1,2]") is neither JSON object nor conductor line: ignored like other output.
      ['bad.jsonl', 5],
    ]);
    expect(summary.errors[3]!.message).toMatch(/malformed OTLP request: resourceSpans: expected an array/);
    // Files that could not be opened at all count as unread, whatever the others gave.
    expect(summary.unreadFiles).toEqual([missing, sub]);
  });

  it('reads OTLP/JSON logs and traces, auto-detected, from plain and gzip files, lines or one pretty document', async () => {
    const traces = [realisticRequest(10, 1), realisticRequest(5, 2)];
    const linesGz = path.join(dir, 'mixed.jsonl.gz');
    await writeFile(linesGz, gzipSync([encodeJson(traces[0]!), JSON.stringify(logsRequest('cart', ['a 1', 'a 2'])), encodeJson(traces[1]!)].join('\n') + '\n'));
    const prettyGz = path.join(dir, 'logs.json.gz');
    await writeFile(prettyGz, gzipSync(JSON.stringify(logsRequest('pay', ['x', 'y', 'z'], 17), null, 2)));
    // Compressed without the .gz name: recognised by its magic bytes.
    const unnamed = path.join(dir, 'logs.bin');
    await writeFile(unnamed, gzipSync(JSON.stringify(logsRequest('pay', ['w']))));
    const plain = await write('logs.json', JSON.stringify(logsRequest('ship', ['s']), null, 2));
    const c = collector();
    const logs: LogEvent[] = [];
    const summary = await ingestFiles([linesGz, prettyGz, unnamed, plain], { onBeats: c.sink, onLogs: (e) => logs.push(...e) });
    expect(summary.errors).toEqual([]);
    expect(summary.beats).toBe(15);
    expect(summary.logs).toBe(7);
    expect(logs.map((e) => `${e.service}:${e.body}:${e.severityNumber}`)).toEqual(['cart:a 1:9', 'cart:a 2:9', 'pay:x:17', 'pay:y:17', 'pay:z:17', 'pay:w:9', 'ship:s:9']);
    expect(logs[1]!.timeMs).toBe(1_700_000_000_001);
  });

  it('names the file for corrupt gzip data and for malformed logs requests, keeping what was read', async () => {
    const good = gzipSync(JSON.stringify(logsRequest('cart', ['ok'])) + '\n' + JSON.stringify(logsRequest('cart', ['ok2'])) + '\n');
    const broken = path.join(dir, 'broken.jsonl.gz');
    await writeFile(broken, good.subarray(0, good.length - 12));
    const bad = await write('bad.jsonl', JSON.stringify({ resourceLogs: {} }) + '\n' + JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ spanId: 'ab' }] }] }] }) + '\n');
    const summary = await ingestFiles([broken, bad], { onBeats: () => {} });
    expect(summary.errors).toEqual([
      { file: broken, line: 0, message: expect.stringMatching(/^invalid gzip data: /) },
      // Nothing survived the truncation of this small archive: the file gave nothing, said once more.
      { file: broken, line: 0, message: 'nothing could be read from this file' },
      { file: bad, line: 1, message: expect.stringMatching(/^malformed OTLP logs request: resourceLogs: expected an array/) },
      { file: bad, line: 2, message: '1 log records rejected: log record 0: invalid span_id (1 bytes)' },
      { file: bad, line: 0, message: 'nothing could be read from this file' },
    ]);
    expect(summary.unreadFiles).toEqual([broken, bad]);
    expect(summary.rejected).toBe(1);
  });

  it('caps the number of errors kept', async () => {
    const file = await write('noise.jsonl', Array.from({ length: 10 }, () => '{oops').join('\n'));
    const summary = await ingestFiles([file], { onBeats: () => {}, maxErrors: 3 });
    expect(summary.errors).toHaveLength(4);
    // The file gave no beat: one more error says so.
    expect(summary.errors[3]!.message).toBe('8 more errors not shown');
  });

  it('reports an unparseable multi-line document', async () => {
    const file = await write('broken.json', '{\n  "resourceSpans": [\n');
    const summary = await ingestFiles([file], { onBeats: () => {} });
    expect(summary.errors).toEqual([
      { file, line: 0, message: expect.stringMatching(/^invalid JSON/) },
      { file, line: 0, message: 'nothing could be read from this file' },
    ]);
    expect(summary.unreadFiles).toEqual([file]);
  });

  it('accepts a byte-order mark at the start of a file', async () => {
    const pretty = await write('bom.json', '\uFEFF' + JSON.stringify(requestJsonObject(realisticRequest(3, 1)), null, 2));
    const lines = await write('bom.jsonl', '\uFEFF' + encodeJson(realisticRequest(2, 1)) + '\n');
    const summary = await ingestFiles([pretty, lines], { onBeats: () => {} });
    expect([summary.beats, summary.errors]).toEqual([5, []]);
  });

  it('names a file that gave no beat and its first lines not understood, and counts ignored lines', async () => {
    const file = await write('app.log', 'server listening on 8080\n\n{"level":"info","msg":"ready"}\nGET /health 200\nGET /health 200\n');
    const summary = await ingestFiles([file], { onBeats: () => {} });
    expect(summary.ignored).toBe(4);
    expect(summary.unreadFiles).toEqual([file]);
    expect(summary.errors).toEqual([
      { file, line: 0, message: 'nothing could be read from this file; first lines not understood: 1: "server listening on 8080"; 3: "{\\"level\\":\\"info\\",\\"msg\\":\\"ready\\"}"; 4: "GET /health 200"' },
    ]);
  });

  it('handles empty files', async () => {
    const file = await write('empty.log', '');
    expect(await ingestFiles([file], { onBeats: () => {} })).toEqual({
      files: 1,
      lines: 0,
      beats: 0,
      logs: 0,
      ignored: 0,
      unreadFiles: [file],
      rejected: 0,
      errors: [{ file, line: 0, message: 'nothing could be read from this file' }],
    });
  });
});

describe('terminalProgress', () => {
  it('draws on a TTY, throttled, and ends the line when complete', () => {
    const out: string[] = [];
    let t = 0;
    const bar = terminalProgress({ isTTY: true, columns: 44, write: (s) => out.push(s) > 0 }, 'load', () => t);
    bar(0, 2 * 1048576);
    t = 50;
    bar(1048576, 2 * 1048576); // throttled
    t = 2000;
    bar(1048576, 2 * 1048576);
    t = 4000;
    bar(2 * 1048576, 2 * 1048576);
    bar(2 * 1048576, 2 * 1048576); // after completion: nothing
    expect(out).toEqual([
      '\rload [..........]   0% 0.0/2.0 MB -- MB/s ETA --',
      '\rload [#####.....]  50% 1.0/2.0 MB 0.5 MB/s ETA 2s',
      '\rload [##########] 100% 2.0/2.0 MB 0.5 MB/s in 4s',
      '\n',
    ]);
    expect([4.2, 75, 3600 + 120].map(formatSeconds)).toEqual(['4s', '1m15s', '1h02m']);
  });

  it('draws nothing when the stream is not a terminal', () => {
    const out: string[] = [];
    const bar = terminalProgress({ isTTY: false, write: (s) => out.push(s) > 0 });
    bar(1, 1);
    expect(out).toEqual([]);
  });
});
