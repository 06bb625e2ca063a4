import type { HealConfig } from '../config/sections/heal.js';

/**
 * Variables every test command gets when the sidecar has them: what a shell, a compiler and a test
 * runner need to find tools, write temp files and format text, and nothing that authenticates.
 */
const BASE_NAMES = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'CI', 'TERM', 'TMPDIR', 'TMP', 'TEMP']);
const BASE_PREFIXES = ['LC_', 'NODE_'];
/**
 * NODE_* variables that are not passed: NODE_OPTIONS configures the sidecar's own runtime (its heap
 * cap, preloaded instrumentation) and would change how the app's tests run; NODE_AUTH_TOKEN is the
 * npm registry credential. A repository that needs either lists it in heal.validation.passEnv.
 */
const NODE_EXCLUDED = new Set(['NODE_OPTIONS', 'NODE_AUTH_TOKEN']);
/** A NODE_* (or LC_*) name that looks like a credential is never passed by the prefix rule. */
const SECRET_NAME = /(TOKEN|SECRET|PASSW|KEY|CREDENTIAL|AUTH)/i;

function allowedByDefault(name: string): boolean {
  if (BASE_NAMES.has(name)) return true;
  if (!BASE_PREFIXES.some((p) => name.startsWith(p))) return false;
  return !NODE_EXCLUDED.has(name) && !SECRET_NAME.test(name);
}

/** Whether a name matches a passEnv entry: an exact name, or a prefix ending in "*". */
function listed(name: string, passEnv: readonly string[]): boolean {
  return passEnv.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * The environment of the application's test command. It runs patched code (possibly LLM-written,
 * or a test built from production data), so it gets an allow-list, never the sidecar's whole
 * environment: the base names above plus heal.validation.passEnv (the repository's own settings).
 * The sidecar's own secrets (GitHub and LLM keys, receiver and admin tokens, forward headers) are
 * kept out even when listed.
 */
export function testEnvironment(heal: HealConfig, env: NodeJS.ProcessEnv, moreSecrets: readonly string[] = []): NodeJS.ProcessEnv {
  const secrets = new Set<string>(['GITHUB_TOKEN', 'GH_TOKEN', 'SELF_HEALING_AUTH_TOKEN', 'SELF_HEALING_ADMIN_TOKEN', ...moreSecrets]);
  if (heal.repository.github?.tokenEnv) secrets.add(heal.repository.github.tokenEnv);
  if (heal.fix.llm?.apiKeyEnv) secrets.add(heal.fix.llm.apiKeyEnv);
  const passEnv = heal.validation.passEnv;
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || secrets.has(name)) continue;
    if (allowedByDefault(name) || listed(name, passEnv)) out[name] = value;
  }
  return out;
}
