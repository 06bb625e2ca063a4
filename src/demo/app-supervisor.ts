import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { projectNodeModules } from './app-repo.js';
import { parseAppEvent, type AppCommand, type AppEvent } from './app-protocol.js';
import type { DemoFault } from './app-runner.js';

/** Where the app process entry is: .js next to this file in dist, .ts under src (run through tsx either way). */
export function appProcessPath(): string {
  const js = fileURLToPath(new URL('./app-process.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./app-process.ts', import.meta.url));
}

/** Files the running app loads: a merge touching none of them (tests, docs) needs no rollout. */
export function affectsRuntime(changedFiles: readonly string[]): boolean {
  return changedFiles.some((f) => f.startsWith('src/') || f === 'package.json');
}

export interface AppSupervisorOptions {
  /** The checkout the app loads its handlers from (a deploy changes its files first). */
  appDir: string;
  otlpEndpoint: string;
  rate: number;
  /** Called for every event of the current process. */
  onEvent?: (event: AppEvent) => void;
  /** Called when the current process exits without being asked to. */
  onCrash?: (code: number | null, signal: NodeJS.Signals | null) => void;
  readyTimeoutMs?: number;
}

/**
 * Runs the demo app as a child process and rolls it out: `deploy(version)` starts a new process
 * on the directory's current files, waits until it runs, then stops the old one (which flushes
 * its spans). Injected faults carry over to the new process: they model traffic, not code.
 */
export class AppSupervisor {
  private current: ChildProcess | undefined;
  private readonly faults = new Set<DemoFault>();
  private closing = false;

  constructor(private readonly opts: AppSupervisorOptions) {}

  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** Starts the first process; resolves once it reports ready. */
  async start(version: string): Promise<void> {
    this.current = await this.spawn(version);
  }

  inject(fault: DemoFault): void {
    this.faults.add(fault);
    this.send(this.current, { type: 'fault', fault });
  }

  /** New process first, then the old one stops: no gap in traffic. */
  async deploy(version: string): Promise<void> {
    const next = await this.spawn(version);
    const old = this.current;
    this.current = next;
    if (old) await this.stopProcess(old);
  }

  async stop(): Promise<void> {
    this.closing = true;
    if (this.current) await this.stopProcess(this.current);
    this.current = undefined;
  }

  private send(child: ChildProcess | undefined, command: AppCommand): void {
    if (child?.connected) child.send(command);
  }

  private spawn(version: string): Promise<ChildProcess> {
    const tsx = pathToFileURL(join(projectNodeModules(), 'tsx', 'dist', 'loader.mjs')).href;
    const child = fork(appProcessPath(), [], {
      execArgv: ['--import', tsx],
      env: {
        ...process.env,
        DEMO_APP_DIR: this.opts.appDir,
        DEMO_OTLP_ENDPOINT: this.opts.otlpEndpoint,
        DEMO_RATE: String(this.opts.rate),
        DEMO_VERSION: version,
        DEMO_FAULTS: [...this.faults].join(','),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise<ChildProcess>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the demo app ${version} did not start within ${this.opts.readyTimeoutMs ?? 30_000} ms`));
      }, this.opts.readyTimeoutMs ?? 30_000);
      child.on('message', (raw: unknown) => {
        const event = parseAppEvent(raw);
        if (!event) return;
        if (event.type === 'ready' && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve(child);
        }
        if (child === this.current || event.type === 'ready') this.opts.onEvent?.(event);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`the demo app ${version} exited before it was ready (code ${code ?? 'none'}, signal ${signal ?? 'none'})`));
        else if (child === this.current && !this.closing) this.opts.onCrash?.(code, signal);
      });
    });
  }

  private async stopProcess(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    this.send(child, { type: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
