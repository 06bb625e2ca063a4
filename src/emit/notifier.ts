import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NotifyConfig, NotifyTarget } from '../config/index.js';
import { VERSION } from '../version.js';
import type { StoredEvent } from '../store/anomaly-store.js';
import { kindMatcher, type EventBus, type Subscription } from './event-bus.js';
import type { Logger } from './logger.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';
import { toAlert, type PostableAlert } from './alertmanager-alerts.js';

const SEVERITY_RANK: Record<string, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const MAX_BACKOFF_MS = 60_000;
/** Firing alerts remembered for re-sending to Alertmanager; the oldest are forgotten beyond it. */
const MAX_ACTIVE_ALERTS = 10_000;

export type NotifyResult = 'sent' | 'retried' | 'dead' | 'silenced';

interface Delivery {
  body: string;
  kind: string;
  id: string;
  attempt: number;
}

/** Silenced incidents (and their anomalies) do not notify; see SilenceGate. */
export interface NotificationSilence {
  event(e: StoredEvent): unknown;
  /** An alert's subject: family "anomaly" or "incident" and its id. */
  subject(family: string, id: string): unknown;
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  now?: () => number;
  silence?: NotificationSilence;
}

function readSecret(t: NotifyTarget, env: NodeJS.ProcessEnv): string | undefined {
  if (t.secretFile !== undefined) return readFileSync(t.secretFile, 'utf8').trim();
  if (t.secretEnv !== undefined) return env[t.secretEnv]?.trim() || undefined;
  return undefined;
}

/** 5xx, 429 and network failures are worth another try; any other answer will not change. */
function retryable(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/**
 * Sends the events of one target in order, one request at a time, with retries and exponential
 * backoff; an event that keeps failing, or that finds the queue full, is dead-lettered (counted
 * and logged, never retried forever and never blocking the ones behind it).
 */
class TargetQueue {
  private readonly queue: Delivery[] = [];
  private sending = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly active = new Map<string, PostableAlert>();
  private resendTimer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> = Promise.resolve();

  constructor(
    readonly target: NotifyTarget,
    private readonly secret: string | undefined,
    private readonly count: (result: NotifyResult) => void,
    private readonly depth: Gauge<'target'>,
    private readonly log: Logger,
    private readonly publicUrl: string | undefined,
    private readonly fetchImpl: typeof fetch,
    private readonly now: () => number,
    private readonly silence: NotificationSilence | undefined,
  ) {
    if (target.format === 'alertmanager') {
      this.resendTimer = setInterval(() => this.resendActive(), target.resendMs);
      this.resendTimer.unref();
    }
  }

  countResult(result: NotifyResult): void {
    this.count(result);
  }

  accept(event: StoredEvent): void {
    if (this.target.format === 'alertmanager') {
      const mapped = toAlert(event, this.publicUrl);
      if (mapped === undefined) return;
      if (mapped.resolved) this.active.delete(mapped.key);
      else {
        this.active.delete(mapped.key);
        this.active.set(mapped.key, mapped.alert);
        if (this.active.size > MAX_ACTIVE_ALERTS) this.active.delete(this.active.keys().next().value!);
      }
      this.enqueue({ body: JSON.stringify([mapped.alert]), kind: event.kind, id: String(event.seq), attempt: 0 });
      return;
    }
    const body = JSON.stringify({ id: String(event.seq), kind: event.kind, timeMs: event.timeMs, payload: event.payload });
    this.enqueue({ body, kind: event.kind, id: String(event.seq), attempt: 0 });
  }

  /**
   * Alertmanager resolves an alert it has not heard about for its resolve_timeout: keep firing
   * ones alive, except those silenced since (Alertmanager then lets them lapse).
   */
  private resendActive(): void {
    if (this.active.size === 0 || this.queue.length > 0) return;
    const alerts = [...this.active.entries()].filter(([key]) => !this.silencedKey(key)).map(([, alert]) => alert);
    if (alerts.length === 0) return;
    this.enqueue({ body: JSON.stringify(alerts), kind: 'alerts.resend', id: `resend-${this.now()}`, attempt: 0 });
  }

  private silencedKey(key: string): boolean {
    const colon = key.indexOf(':');
    return this.silence !== undefined && Boolean(this.silence.subject(key.slice(0, colon), key.slice(colon + 1)));
  }

  private enqueue(d: Delivery): void {
    if (this.stopped) return;
    if (this.queue.length >= this.target.maxQueue) {
      this.dead(d, 'queue full');
      return;
    }
    this.queue.push(d);
    this.depth.labels(this.target.name).set(this.queue.length);
    this.pump();
  }

  private pump(): void {
    if (this.sending || this.timer !== undefined || this.stopped || this.queue.length === 0) return;
    this.sending = true;
    const d = this.queue[0]!;
    this.inFlight = this.attempt(d).finally(() => {
      this.sending = false;
      this.pump();
    });
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempt++;
    let status = 0;
    let reason = '';
    try {
      const res = await this.fetchImpl(this.url(), {
        method: 'POST',
        headers: this.headers(d),
        body: d.body,
        signal: AbortSignal.timeout(this.target.timeoutMs),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      reason = `HTTP ${status}`;
    } catch (err) {
      reason = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
    }
    if (status >= 200 && status < 300) {
      this.queue.shift();
      this.count('sent');
    } else if ((status === 0 || retryable(status)) && d.attempt < this.target.maxAttempts && !this.stopped) {
      this.count('retried');
      const delay = Math.min(this.target.backoffMs * 2 ** (d.attempt - 1), MAX_BACKOFF_MS);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, delay);
      this.timer.unref();
    } else {
      this.queue.shift();
      this.dead(d, reason);
    }
    this.depth.labels(this.target.name).set(this.queue.length);
  }

  private url(): string {
    return this.target.format === 'alertmanager' ? `${this.target.url.replace(/\/+$/, '')}/api/v2/alerts` : this.target.url;
  }

  private headers(d: Delivery): Record<string, string> {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': `self-healing/${VERSION}`,
      'x-self-healing-event': d.kind,
      'x-self-healing-delivery': d.id,
    };
    if (this.secret !== undefined) h[SIGNATURE_HEADER] = signWebhook(this.secret, Math.floor(this.now() / 1000), d.body);
    return h;
  }

  private dead(d: Delivery, reason: string): void {
    this.count('dead');
    this.log.warn('notification dead-lettered', { target: this.target.name, event: d.kind, delivery: d.id, attempts: d.attempt, reason });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.resendTimer !== undefined) clearInterval(this.resendTimer);
    await this.inFlight;
  }
}

/**
 * Incident and anomaly notifications: one queue per configured target, fed from the event bus
 * from the moment the sidecar starts (events from before a restart are not re-sent; a consumer
 * that needs them replays the SSE stream with Last-Event-ID).
 */
export class Notifier {
  private readonly queues: TargetQueue[] = [];
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly config: NotifyConfig,
    private readonly bus: EventBus,
    registry: Registry,
    private readonly log: Logger,
    private readonly options: NotifierOptions = {},
  ) {
    const sent = new Counter({
      name: 'self_healing_notifications_total',
      help: 'Notification deliveries by target and result (sent, retried = an attempt failed and will be retried, dead = given up, silenced = not sent: its incident is silenced)',
      labelNames: ['target', 'result'],
      registers: [registry],
    });
    const depth = new Gauge({ name: 'self_healing_notification_queue', help: 'Notifications waiting per target', labelNames: ['target'], registers: [registry] });
    const env = options.env ?? process.env;
    for (const t of config.targets) {
      this.queues.push(
        new TargetQueue(t, readSecret(t, env), (r) => sent.labels(t.name, r).inc(), depth, log, config.publicUrl, options.fetch ?? fetch, options.now ?? Date.now, options.silence),
      );
    }
  }

  get targetCount(): number {
    return this.queues.length;
  }

  start(): void {
    const after = this.bus.lastSeq();
    for (const q of this.queues) {
      const minRank = SEVERITY_RANK[q.target.minSeverity] ?? 0;
      const wanted = kindMatcher(q.target.events);
      this.subscriptions.push(
        this.bus.subscribe(after, undefined, (event) => {
          if (!wanted(event.kind)) return;
          const severity = (event.payload as { severity?: unknown } | null)?.severity;
          if (typeof severity === 'string' && (SEVERITY_RANK[severity] ?? 0) < minRank) return;
          if (this.options.silence?.event(event)) {
            q.countResult('silenced');
            return;
          }
          q.accept(event);
        }, {
          onClose: (reason) => this.log.warn('notifications stopped for a target', { target: q.target.name, reason }),
        }),
      );
    }
  }

  /** Waits for the requests in flight (each bounded by its timeout); queued events are dropped. */
  async stop(): Promise<void> {
    for (const s of this.subscriptions) s.close();
    await Promise.all(this.queues.map((q) => q.stop()));
  }
}
