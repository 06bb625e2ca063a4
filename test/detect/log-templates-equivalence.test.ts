import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LogTemplateMiner, logTokens, type LogTemplateOptions } from '../../src/detect/log-templates.js';
import { BodyShapes } from '../../src/receive/body-shapes.js';
import { LogTemplateMiner as ReferenceMiner } from './fixtures/log-templates-reference.js';

/**
 * The shipped miner remembers body shapes to skip masking, tokenising and matching for repeated
 * lines; these tests replay real log lines through it and through the miner as it was before
 * (fixtures/log-templates-reference.ts) and require the same answer for every record. Real lines:
 * the musical-conductor captures in test/fixtures/conductor-logs (always), and a sample of the
 * Train Ticket logs of the Nezha dataset when <repo>/../shared/nezha is present.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CONDUCTOR_DIR = join(ROOT, 'test', 'fixtures', 'conductor-logs');
const NEZHA_DIR = join(ROOT, '..', 'shared', 'nezha', 'rca_data');

interface Line {
  service: string;
  body: string;
}

function conductorLines(): Line[] {
  const out: Line[] = [];
  for (const f of readdirSync(CONDUCTOR_DIR).filter((f) => f.endsWith('.log') && !f.includes('utf16')).sort()) {
    for (const body of readFileSync(join(CONDUCTOR_DIR, f), 'utf8').split('\n')) if (body !== '') out.push({ service: f, body });
  }
  return out;
}

/** The message column of a Nezha log CSV row (RFC 4180 quoting; the column is the container runtime's JSON). */
function nezhaLine(row: string): Line | undefined {
  const fields: string[] = [];
  let i = 0;
  while (i <= row.length && fields.length < 8) {
    if (row[i] === '"') {
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = row.indexOf('"', j);
        if (q < 0) return undefined;
        v += row.slice(j, q);
        if (row[q + 1] === '"') {
          v += '"';
          j = q + 2;
        } else {
          i = q + 2;
          break;
        }
      }
      fields.push(v);
    } else {
      const c = row.indexOf(',', i);
      const end = c < 0 ? row.length : c;
      fields.push(row.slice(i, end));
      i = end + 1;
    }
  }
  const pod = fields[3];
  const raw = fields[7];
  if (pod === undefined || raw === undefined) return undefined;
  let text = raw;
  try {
    text = (JSON.parse(raw) as { log?: string }).log ?? raw;
  } catch {
    // not JSON: the raw text
  }
  return { service: pod.split('-').slice(0, -2).join('-'), body: text.replace(/\n$/, '') };
}

/** Every 12th log file of each day (about 20 000 lines); [] when the data set is not there. */
function nezhaLines(): Line[] {
  if (!existsSync(NEZHA_DIR)) return [];
  const out: Line[] = [];
  for (const day of readdirSync(NEZHA_DIR).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d)).sort()) {
    const dir = join(NEZHA_DIR, day, 'log');
    const files = readdirSync(dir).filter((f) => f.endsWith('.csv.gz')).sort();
    for (let k = 0; k < files.length; k += 12) {
      const rows = gunzipSync(readFileSync(join(dir, files[k]!))).toString('utf8').split('\n');
      for (let r = 1; r < rows.length; r++) {
        const line = rows[r] === '' ? undefined : nezhaLine(rows[r]!);
        if (line !== undefined) out.push(line);
      }
    }
  }
  return out;
}

const lines = [...conductorLines(), ...nezhaLines()];
const nezhaPresent = existsSync(NEZHA_DIR);

/** Every digit replaced by another one: the same shape, different text. */
function otherDigits(s: string): string {
  return s.replace(/\d/g, (d) => String((Number(d) + 7) % 10));
}

/**
 * Replays input through both miners. With `shapes`, the shipped miner is given the decoders'
 * shape ids (from a table of that many slots, so small tables make shapes collide and be re-issued).
 */
function replay(options: Partial<LogTemplateOptions>, input: readonly Line[], shapes?: number): void {
  const shipped = new LogTemplateMiner(options);
  const reference = new ReferenceMiner(options);
  const table = shapes === undefined ? undefined : new BodyShapes(shapes);
  const services = new Set<string>();
  for (let i = 0; i < input.length; i++) {
    const { service, body } = input[i]!;
    services.add(service);
    const got = shipped.add(service, body, table === undefined ? 0 : i % 2 === 0 ? table.ofString(body) : table.ofBytes(Buffer.from(body), 0, Buffer.byteLength(body)));
    const want = reference.add(service, body);
    if (got.templateId !== want.templateId || got.template !== want.template || got.created !== want.created) {
      // One readable failure instead of thousands.
      expect({ i, service, body, got }).toEqual({ i, service, body, got: want });
    }
  }
  for (const s of services) {
    expect(shipped.templateCount(s)).toBe(reference.templateCount(s));
  }
  expect(shipped.evictedTemplates).toBe(reference.evictedTemplates);
  expect(shipped.evictedServices).toBe(reference.evictedServices);
  expect(shipped.serviceCount).toBe(reference.serviceCount);
}

describe('log template miner: same templates as before the shape cache, on real log lines', () => {
  it('reads the real lines (conductor captures, and the Nezha sample when ../shared/nezha is present)', () => {
    expect(lines.length).toBeGreaterThan(nezhaPresent ? 15_000 : 4_000);
  });

  it('tokens do not depend on which digits a body holds, but in its code location (what lets bodies share a shape)', () => {
    const differ: string[] = [];
    const shape = (tokens: string[]): string => tokens.map((t) => t.replace(/\d/g, '0')).join('\u0001');
    let located = 0;
    for (const { body } of lines) {
      const span = { start: 0, end: 0 };
      const other = { start: 0, end: 0 };
      const a = logTokens(body, 64, span);
      const b = logTokens(otherDigits(body), 64, other);
      if (shape(a) !== shape(b) || span.start !== other.start || span.end !== other.end) differ.push(body);
      // Outside the code location, no digit is left.
      if (a.filter((t) => /\d/.test(t)).length > (span.end > 0 ? 1 : 0)) differ.push(body);
      if (span.end > 0) located++;
    }
    expect(differ).toEqual([]);
    if (nezhaPresent) expect(located).toBeGreaterThan(lines.length / 2);
  });

  it('gives every record the same template, id and created flag with the default options', () => {
    replay({}, lines);
  });

  it('and with the lines repeated with other digits (shape hits) and tight limits (evictions, generalised templates)', () => {
    const input: Line[] = [];
    for (const l of lines) {
      input.push(l);
      input.push({ service: l.service, body: otherDigits(l.body) });
    }
    replay({}, input);
    replay({ maxTemplatesPerService: 12, maxServices: 5, similarity: 0.4 }, input);
    replay({ maxTemplatesPerService: 3, maxChildren: 2, prefixTokens: 2, maxTokens: 8, similarity: 0.7 }, input);
  });

  it('and when given the decoders\' shape ids (as serve does), with a full table and with a tiny one', () => {
    const input: Line[] = [];
    for (const l of lines) {
      input.push(l);
      input.push({ service: l.service, body: otherDigits(l.body) });
    }
    replay({}, input, 4096);
    replay({ maxTemplatesPerService: 12, maxServices: 5 }, input, 8);
  });

  it('and with services interleaved record by record (the shape table holds one entry per service and shape)', () => {
    const input = lines.slice(0, 20_000).map((l, i) => ({ service: `svc-${i % 3}`, body: l.body }));
    replay({}, input);
    replay({ maxTemplatesPerService: 20, maxServices: 2 }, input);
  });
});
