import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/emit/logger.js';
import { Sidecar } from '../../src/sidecar.js';
import { createFixtureRepo, type FixtureRepo } from '../../src/demo/app-repo.js';

export interface ReceivingSidecar {
  repo: FixtureRepo;
  /** A scratch directory of the test's (holds the sidecar's database). */
  dir: string;
  sidecar: Sidecar;
  cleanup(): Promise<void>;
}

/**
 * The demo app's counterpart in tests: a fixture repository (with the null-access bug) and a
 * sidecar that only receives OTLP/gRPC, with manual evaluation and healing off.
 */
export async function startReceivingSidecar(prefix: string): Promise<ReceivingSidecar> {
  const repo = await createFixtureRepo({ bug: 'null-access' });
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const config = ConfigSchema.parse({
    logLevel: 'silent',
    receive: { grpc: { port: 0 }, http: { enabled: false } },
    admin: { enabled: false },
    emit: { otlp: { enabled: false } },
    store: { path: join(dir, 'state.db') },
    heal: { enabled: false },
  });
  const sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent'), cwd: dir });
  return {
    repo,
    dir,
    sidecar,
    async cleanup() {
      await sidecar.stop();
      await repo.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
