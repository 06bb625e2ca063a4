import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/**
 * The package root (the folder holding this project's package.json). Source files run from src/
 * under tsx/vitest and from dist/src/ when built, so paths to proto/ and other assets are found by
 * walking up rather than by a fixed number of "..".
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'self-healing-sidecar') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the self-healing-sidecar package root');
    dir = parent;
  }
}

/** Folder holding the .proto files (OTLP and selfhealing.v1). */
export function protoRoot(): string {
  return join(packageRoot(), 'proto');
}
