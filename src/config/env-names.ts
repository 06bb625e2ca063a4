import { ENV_PREFIX } from './env-prefix.js';
import { configFields } from './reference.js';

let known: { names: Set<string>; prefixes: Set<string> } | undefined;

/** Every settable variable name, and every level above a leaf (a subtree given as a YAML mapping). */
function knownNames(): { names: Set<string>; prefixes: Set<string> } {
  if (known !== undefined) return known;
  const names = new Set<string>();
  const prefixes = new Set<string>();
  for (const f of configFields()) {
    names.add(f.env);
    const parts = f.env.slice(ENV_PREFIX.length).split('__');
    for (let i = 1; i < parts.length; i++) prefixes.add(ENV_PREFIX + parts.slice(0, i).join('__'));
  }
  known = { names, prefixes };
  return known;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The valid variable closest to `name`: same letters with other underscores first, then edit distance. */
export function closestEnvName(name: string): string {
  const squash = (s: string): string => s.replace(/_+/g, '_');
  let best = '';
  let bestScore = Infinity;
  for (const candidate of knownNames().names) {
    const score = squash(candidate) === squash(name) ? 0 : 1 + editDistance(candidate, name);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/**
 * SELF_HEALING_* variables that set nothing: a misspelt name would otherwise be ignored in
 * silence. `secrets` are the names the configuration itself points at (receive.auth.tokenEnv
 * and the like), which hold values rather than settings.
 */
export function unknownEnvNames(env: Record<string, string | undefined>, secrets: ReadonlySet<string>): string[] {
  const { names, prefixes } = knownNames();
  const out: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || env[name] === undefined) continue;
    if (names.has(name) || prefixes.has(name) || secrets.has(name)) continue;
    out.push(name);
  }
  return out.sort();
}
