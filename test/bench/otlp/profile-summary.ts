/**
 * Self time per function (and per file) of a V8 .cpuprofile, as written by otlp-bench.ts
 * --cpu-prof-dir (node --cpu-prof). Samples of the first `--skip` seconds are left out, so the
 * start-up (module loading, JIT) does not hide the steady state.
 *
 *   node dist/test/bench/otlp/profile-summary.js /tmp/prof/CPU.*.cpuprofile [--top 40] [--skip 5]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const top = flag('top', 40);
const skipUs = flag('skip', 5) * 1e6;
const files = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (files.length === 0) {
  console.error('usage: profile-summary <file.cpuprofile>... [--top 40] [--skip 5]');
  process.exit(2);
}

const short = (url: string): string => url.replace(/^.*\/(dist|node_modules)\//, '$1/');
const percent = (v: number, total: number): string => ((v / total) * 100).toFixed(1).padStart(5);

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const perFile = new Map<string, number>();
  let at = 0;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = p.timeDeltas[i] ?? 0;
    at += d;
    if (at < skipUs) continue;
    const f = byId.get(p.samples[i]!)!.callFrame;
    total += d;
    const where = short(f.url) || '(native)';
    const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + d);
    perFile.set(where, (perFile.get(where) ?? 0) + d);
  }
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s of samples after the first ${skipUs / 1e6} s`);
  console.log('self time per function:');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${percent(v, total)} %  ${k}`);
  console.log('self time per file:');
  for (const [k, v] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${percent(v, total)} %  ${k}`);
}
