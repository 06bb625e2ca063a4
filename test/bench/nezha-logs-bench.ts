/**
 * COMPONENT benchmark of the log pipeline (template mining + LogDetector, default detect config)
 * on the real Train Ticket logs of the Nezha dataset: not `serve`, and no traces. It replays each
 * day's log minutes in time order through one LogDetector, as a long-running sidecar would see
 * them (the gaps between fault windows are empty slices), and reports
 *  - template counts per service, evictions, records;
 *  - per fault: log findings on the injected service from the injection to 3 minutes after, and
 *    whether an `exception` fault produced a new ERROR template there.
 * Reads <repo>/../shared/nezha (or NEZHA_DIR); never copies it.
 *
 *   npx tsx test/bench/nezha-logs-bench.ts [--verbose]
 */
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { ConfigSchema } from '../../src/config/schema.js';
import { LogDetector } from '../../src/detect/log-detector.js';
import type { Finding } from '../../src/model/anomaly.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { severityFromText } from '../../src/receive/log-builder.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIR = process.env['NEZHA_DIR'] ?? join(ROOT, '..', 'shared', 'nezha');
const verbose = process.argv.includes('--verbose');

interface Fault {
  day: string;
  injectMs: number;
  service: string;
  type: string;
}

/** ts-route-service-b6c59fb57-zv8dt -> ts-route-service */
function serviceOf(pod: string): string {
  return pod.split('-').slice(0, -2).join('-');
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines in this data set). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 2;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

// "16:42:22.382 INFO  t.s.TravelServiceImpl#532 TraceID: <id> SpanID: <id> [msg]"
const LINE_RE = /^\d\d:\d\d:\d\d\.\d+\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+(.*)$/s;
const IDS_RE = /TraceID: \S* SpanID: \S* ?/;

/** One CSV row as the LogEvent an OTel log bridge would send for it. */
function logEventOf(fields: string[]): LogEvent | undefined {
  const [, nanos, , pod, , traceId, spanId, raw] = fields;
  if (nanos === undefined || pod === undefined || raw === undefined) return undefined;
  let text = raw;
  try {
    text = (JSON.parse(raw) as { log?: string }).log ?? raw;
  } catch {
    // not the container runtime's JSON: keep the raw text
  }
  text = text.replace(/\n$/, '');
  const m = LINE_RE.exec(text);
  const level = m?.[1] ?? '';
  const body = (m?.[2] ?? text).replace(IDS_RE, '');
  const hex = (s: string | undefined, n: number): string => (s !== undefined && /^[0-9a-f]+$/.test(s) && s.length === n ? s : '');
  return {
    service: serviceOf(pod),
    serviceVersion: '',
    timeMs: Number(BigInt(nanos) / 1_000_000n),
    severityNumber: severityFromText(level),
    severityText: level,
    body,
    traceId: hex(traceId, 32),
    spanId: hex(spanId, 16),
    attributes: {},
  };
}

async function readLogFile(file: string): Promise<LogEvent[]> {
  const rl = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const out: LogEvent[] = [];
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    if (line === '') continue;
    const e = logEventOf(csvFields(line));
    if (e) out.push(e);
  }
  return out;
}

function faultsOf(day: string): Fault[] {
  const list = JSON.parse(readFileSync(join(DIR, 'rca_data', day, `${day}-fault_list.json`), 'utf8')) as Record<string, Array<{ inject_time: string; inject_pod: string; inject_type: string }>>;
  return Object.values(list)
    .flat()
    .map((f) => ({ day, injectMs: Date.parse(`${f.inject_time.replace(' ', 'T')}Z`), service: serviceOf(f.inject_pod), type: f.inject_type }));
}

async function main(): Promise<void> {
  if (!existsSync(join(DIR, 'rca_data'))) {
    console.error(`Nezha data not found at ${DIR}: this benchmark reads <repo>/../shared/nezha or the directory in NEZHA_DIR.`);
    process.exitCode = 1;
    return;
  }
  const config = ConfigSchema.parse({}).detect;
  const days = readdirSync(join(DIR, 'rca_data')).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d)).sort();
  const byType = new Map<string, { faults: number; withNewErrorTemplate: number; withAnyLogFinding: number; newErrorAnywhere: number }>();
  let records = 0;
  const started = Date.now();
  for (const day of days) {
    const detector = new LogDetector({ config: config.logs, sliceMs: config.sliceMs, windowSlices: config.windowSlices, baselineSlices: config.baselineSlices, baselineMinSlices: config.baselineMinSlices });
    const files = readdirSync(join(DIR, 'rca_data', day, 'log')).filter((f) => f.endsWith('.csv.gz')).sort();
    const events: LogEvent[] = [];
    for (const f of files) for (const e of await readLogFile(join(DIR, 'rca_data', day, 'log', f))) events.push(e);
    if (verbose) console.log(`${day}: read ${files.length} files, ${events.length} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Consecutive files overlap at their boundary: keep one copy of each record. A few rows carry
    // a nonsensical TimeUnixNano (before 2020): dropped and counted.
    const seen = new Set<string>();
    let badTime = 0;
    const unique = events.filter((e) => {
      if (!(e.timeMs > 1_577_836_800_000)) {
        badTime++;
        return false;
      }
      const k = `${e.timeMs}|${e.service}|${e.spanId}|${e.body}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    unique.sort((a, b) => a.timeMs - b.timeMs);
    records += unique.length;
    const findings: Array<Finding & { atMs: number }> = [];
    const slice = config.sliceMs;
    let boundary = Math.floor(unique[0]!.timeMs / slice) * slice + slice;
    let i = 0;
    while (i < unique.length) {
      const batch: LogEvent[] = [];
      while (i < unique.length && unique[i]!.timeMs < boundary) batch.push(unique[i++]!);
      if (batch.length > 0) detector.observe(batch);
      for (const f of detector.evaluate(boundary)) findings.push({ ...f, atMs: boundary });
      boundary += slice;
    }
    const services = new Set(unique.map((e) => e.service));
    const counts = [...services].map((s) => [s, detector.miner.templateCount(s)] as const).sort((a, b) => b[1] - a[1]);
    const total = counts.reduce((a, [, n]) => a + n, 0);
    console.log(`\n${day}: ${unique.length} records (${badTime} with a time before 2020 dropped), ${services.size} services, ${total} templates (evicted ${detector.miner.evictedTemplates}), median per service ${counts[Math.floor(counts.length / 2)]![1]}, max ${counts[0]![0]} ${counts[0]![1]}`);
    const keys = new Set(findings.map((f) => f.key));
    const bySubtype = new Map<string, number>();
    for (const k of keys) bySubtype.set(k.split(':')[1]!, (bySubtype.get(k.split(':')[1]!) ?? 0) + 1);
    console.log(`  distinct log findings (keys): ${[...bySubtype].map(([s, n]) => `${s} ${n}`).join(', ')}`);
    for (const fault of faultsOf(day)) {
      const inWindow = findings.filter((f) => f.atMs >= fault.injectMs && f.atMs <= fault.injectMs + 180_000);
      const onService = inWindow.filter((f) => f.service === fault.service);
      const newError = onService.some((f) => f.subtype === 'new-log-template' && Number(f.details['logSeverity']) >= 17);
      const row = byType.get(fault.type) ?? { faults: 0, withNewErrorTemplate: 0, withAnyLogFinding: 0, newErrorAnywhere: 0 };
      if (inWindow.some((f) => f.subtype === 'new-log-template' && Number(f.details['logSeverity']) >= 17)) row.newErrorAnywhere++;
      row.faults++;
      if (newError) row.withNewErrorTemplate++;
      if (onService.length > 0) row.withAnyLogFinding++;
      byType.set(fault.type, row);
      if (verbose) {
        const what = [...new Set(onService.map((f) => `${f.subtype} ${String(f.details['template']).slice(0, 90)}`))];
        const others = [...new Set(inWindow.filter((f) => f.service !== fault.service).map((f) => f.service))];
        console.log(`  ${new Date(fault.injectMs).toISOString().slice(11, 19)} ${fault.type.padEnd(14)} ${fault.service.padEnd(30)} ${what.length === 0 ? '-' : what.join(' | ')}${others.length ? `  [other services: ${others.join(', ')}]` : ''}`);
      }
    }
  }
  console.log('\nper fault type (inject .. +3 min): faults | new ERROR template on the injected service | any log finding on it | new ERROR template on any service');
  for (const [type, r] of [...byType].sort()) console.log(`  ${type.padEnd(15)} ${r.faults}  ${r.withNewErrorTemplate}  ${r.withAnyLogFinding}  ${r.newErrorAnywhere}`);
  console.log(`\n${records} records in ${((Date.now() - started) / 1000).toFixed(1)} s (component benchmark: LogDetector only, default detect config)`);
}

await main();
