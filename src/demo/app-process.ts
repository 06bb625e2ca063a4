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
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo app failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
