import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'self-healing-sidecar';

/**
 * The package's own version, read from its package.json found upwards from this module (the same
 * lookup works from src/ under tsx and from dist/src/ once built). '0.0.0-unknown' when the file
 * cannot be found, so a stripped install still starts.
 */
function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not ours or unreadable: keep looking upwards
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return '0.0.0-unknown';
    dir = parent;
  }
}

export const VERSION = readVersion();
