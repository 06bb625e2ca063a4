/**
 * Entry of the demo application's child process (see app-main.ts for what it does). The parent,
 * src/demo/app-supervisor.ts, injects faults over IPC and deploys by starting a new process on the
 * merged code (same directory, new service.version), as a real rollout would.
 *
 * Run as: node --import tsx <this file>
 *   env DEMO_APP_DIR (checkout to load handlers from), DEMO_OTLP_ENDPOINT, DEMO_RATE (runs/s),
 *       DEMO_VERSION (service.version), DEMO_FAULTS (faults active from the start)
 */
import { runApp, settingsFromEnv } from './app-main.js';

// musical-conductor logs every step of every run (and each swallowed handler error) to the
// console; the demo's terminal belongs to the narrator. Failures of the app itself still reach
// stderr below.
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) console[level] = () => {};

runApp(settingsFromEnv(process.env, process.cwd()), {
  send: (event) => process.send?.(event),
  onMessage: (listener) => process.on('message', listener),
  onDisconnect: (listener) => process.on('disconnect', listener),
}).then(
  () => leave(0),
  (err: unknown) => {
    process.stderr.write(`demo app failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    leave(1);
  },
);

// Leave by letting the event loop drain rather than process.exit(): on Node 20 an exit forced
// while the tsx loader's hooks thread is still busy has been seen to end in SIGSEGV, which the
// parent would then report instead of the real exit code. The unref'd timer is only a backstop
// for a handle that will not close.
function leave(code: number): void {
  process.exitCode = code;
  if (process.connected) process.disconnect();
  setTimeout(() => process.exit(code), 2_000).unref();
}
