/**
 * Where a V8 heap snapshot's memory goes, by owner: every node's self size (ArrayBuffer data
 * included) is given to the nearest instance of a named class above it on a breadth-first path
 * from the roots, and summed per owner (the last `--depth` class names of that path). A rough
 * split, not a dominator tree: a node reachable from two owners counts for the one found first.
 *
 *   node --max-old-space-size=4096 dist/test/bench/heap-owners.js <file.heapsnapshot> [--depth 1] [--top 40] [--heap-only]
 *
 * Snapshots: `key-memory-bench --snapshot <file>`, or a serve started with
 * `--heapsnapshot-signal=SIGUSR2` and sent that signal (docs/benchmarks.md, per-key state).
 * `--heap-only` leaves out ArrayBuffer data (what the garbage collector does not scan).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Containers and built-ins: memory below them belongs to whoever holds them. */
const GENERIC = new Set(['Object', 'Array', 'Map', 'Set', 'WeakMap', 'ArrayBuffer', 'Buffer', 'Function', 'Generator', 'Promise', 'Float64Array', 'Float32Array', 'Int32Array', 'Int16Array', 'Uint8Array', 'Uint16Array', 'Uint32Array']);

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined || file.startsWith('--')) throw new Error('usage: heap-owners.js <file.heapsnapshot> [--depth 1] [--top 40] [--heap-only]');
  const depth = Math.max(1, Number(flag('depth', '1')));
  const top = Math.max(1, Number(flag('top', '40')));
  const heapOnly = process.argv.includes('--heap-only');
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const meta = snap.snapshot.meta;
  const nfl = meta.node_fields.length;
  const efl = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const iType = meta.node_fields.indexOf('type');
  const iName = meta.node_fields.indexOf('name');
  const iSize = meta.node_fields.indexOf('self_size');
  const iEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eTo = meta.edge_fields.indexOf('to_node');
  const { nodes, edges, strings } = snap;
  const n = nodes.length / nfl;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nfl + iEdges]! * efl;
    firstEdge[i + 1] = e;
  }
  const labels: string[] = ['(root)'];
  const labelIndex = new Map<string, number>([['(root)', 0]]);
  const label = new Int32Array(n).fill(-1);
  label[0] = 0;
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  while (head < tail) {
    const from = queue[head++]!;
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += efl) {
      const kind = edgeTypes[edges[e + eType]!];
      if (kind === 'weak' || kind === 'shortcut') continue;
      const to = edges[e + eTo]! / nfl;
      if (label[to] !== -1) continue;
      let l = label[from]!;
      const name = strings[nodes[to * nfl + iName]!]!;
      if (types[nodes[to * nfl + iType]!] === 'object' && /^[A-Z]/.test(name) && !GENERIC.has(name)) {
        const path = l === 0 ? [] : labels[l]!.split('>');
        path.push(name);
        const key = path.slice(-depth).join('>');
        let k = labelIndex.get(key);
        if (k === undefined) {
          k = labels.length;
          labels.push(key);
          labelIndex.set(key, k);
        }
        l = k;
      }
      label[to] = l;
      queue[tail++] = to;
    }
  }
  const bytes = new Float64Array(labels.length);
  const count = new Float64Array(labels.length);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (label[i]! < 0 || (heapOnly && types[nodes[i * nfl + iType]!] === 'native')) continue;
    const size = nodes[i * nfl + iSize]!;
    bytes[label[i]!]! += size;
    count[label[i]!]!++;
    total += size;
  }
  console.log(`${file}: ${(total / 1048576).toFixed(1)} MiB${heapOnly ? ' (heap objects only)' : ''} in ${n} nodes, by owner (MiB, nodes):`);
  const order = labels.map((_, i) => i).sort((a, b) => bytes[b]! - bytes[a]!);
  for (const i of order.slice(0, top)) console.log(`${(bytes[i]! / 1048576).toFixed(2).padStart(9)} ${String(count[i]).padStart(9)}  ${labels[i]}`);
}

main();
