import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterPeer } from '../config/index.js';
import type { Logger } from '../emit/logger.js';
import { parsePeerEvent, SseParser, type PeerAnomalyChange } from '../diagnose/peer-anomalies.js';

export interface PeerEventFollowerOptions {
  peers: readonly ClusterPeer[];
  /** The bearer token sent to peers: this instance's admin token (every instance shares it). */
  token: string | undefined;
  /** Changes waiting for the next incident evaluation; beyond it the oldest are dropped and counted. */
  maxQueue: number;
  /** First reconnect delay; doubles per failed attempt up to MAX_RETRY_MS. */
  retryMs: number;
  registry: Registry;
  log: Logger;
  /** Events published before this (wall clock) are skipped: a restarted correlator does not rebuild old incidents. */
  sinceMs?: number;
}

const MAX_RETRY_MS = 60_000;
/** Anomaly ids remembered per peer to tell a first sighting from an update. */
const MAX_REMEMBERED_IDS = 50_000;

/**
 * Follows the anomaly events of the other instances of a scaled-out shape over their SSE event
 * streams (GET /api/v1/events?kinds=anomaly.*), with the admin token, resuming after the last
 * seen sequence number when a stream ends. Received changes wait in one bounded queue until the
 * incident engine takes them; they are never published on this instance's own bus, so an
 * anomaly cannot travel back to where it came from.
 */
export class PeerEventFollower {
  private readonly queue: PeerAnomalyChange[] = [];
  private readonly controllers = new Set<AbortController>();
  private readonly lastSeq = new Map<string, number>();
  private readonly seenIds = new Map<string, Set<string>>();
  private readonly received: Counter;
  private readonly dropped: Counter;
  private readonly streamErrors: Counter;
  private readonly connected: Gauge;
  private stopped = false;
  private readonly loops: Array<Promise<void>> = [];

  constructor(private readonly opts: PeerEventFollowerOptions) {
    this.received = new Counter({ name: 'self_healing_peer_anomaly_events_total', help: 'Anomaly events received from peer instances', labelNames: ['peer'], registers: [opts.registry] });
    this.dropped = new Counter({ name: 'self_healing_peer_anomaly_events_dropped_total', help: 'Peer anomaly events dropped: queue full or not an anomaly event', labelNames: ['reason'], registers: [opts.registry] });
    this.streamErrors = new Counter({ name: 'self_healing_peer_stream_errors_total', help: 'Peer event streams that failed or ended', labelNames: ['peer'], registers: [opts.registry] });
    this.connected = new Gauge({ name: 'self_healing_peer_streams_connected', help: 'Peer event streams currently open', registers: [opts.registry] });
  }

  start(): void {
    for (const peer of this.opts.peers) this.loops.push(this.follow(peer));
  }

  /** Takes every queued change, oldest first. */
  drain(): PeerAnomalyChange[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** The last event sequence number received from a peer (0 before any). */
  seenSeq(peer: string): number {
    return this.lastSeq.get(peer) ?? 0;
  }

  get pending(): number {
    return this.queue.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.controllers) c.abort();
    await Promise.allSettled(this.loops);
  }

  private async follow(peer: ClusterPeer): Promise<void> {
    let delay = this.opts.retryMs;
    while (!this.stopped) {
      const got = await this.stream(peer).catch((err: unknown) => {
        if (!this.stopped) this.opts.log.warn('peer event stream failed', { peer: peer.name, url: peer.url, err: err instanceof Error ? err.message : String(err) });
        return 0;
      });
      if (this.stopped) return;
      this.streamErrors.labels(peer.name).inc();
      delay = got > 0 ? this.opts.retryMs : Math.min(MAX_RETRY_MS, delay * 2);
      await this.sleep(delay);
    }
  }

  /** One connection; resolves with the number of events it delivered when the stream ends. */
  private async stream(peer: ClusterPeer): Promise<number> {
    const ctl = new AbortController();
    this.controllers.add(ctl);
    try {
      const url = new URL(peer.url);
      url.pathname = `${url.pathname.replace(/\/$/, '')}/api/v1/events`;
      url.searchParams.set('kinds', 'anomaly.*');
      url.searchParams.set('after', String(this.lastSeq.get(peer.name) ?? 0));
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
      const res = await fetch(url, { headers, signal: ctl.signal });
      if (res.status !== 200 || res.body === null) {
        await res.body?.cancel();
        const why = res.status === 401 || res.status === 403 ? ' (the peer refused this instance\'s admin token or Host: check admin.auth and the peer\'s admin.allowedHosts)' : '';
        throw new Error(`HTTP ${res.status}${why}`);
      }
      this.connected.inc();
      try {
        return await this.read(peer, res.body);
      } finally {
        this.connected.dec();
      }
    } finally {
      this.controllers.delete(ctl);
    }
  }

  private async read(peer: ClusterPeer, body: ReadableStream<Uint8Array>): Promise<number> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let delivered = 0;
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      for (const frame of parser.push(decoder.decode(chunk, { stream: true }))) {
        const ev = parsePeerEvent(peer.name, frame.data);
        if ('error' in ev) {
          this.dropped.labels('invalid').inc();
          this.opts.log.warn('ignored a peer event', { peer: peer.name, reason: ev.error });
          continue;
        }
        this.lastSeq.set(peer.name, Math.max(this.lastSeq.get(peer.name) ?? 0, ev.seq));
        delivered++;
        this.accept(ev);
      }
    }
    return delivered;
  }

  private accept(ev: PeerAnomalyChange): void {
    const { anomaly } = ev.change;
    if (this.opts.sinceMs !== undefined && ev.timeMs < this.opts.sinceMs) return;
    let seen = this.seenIds.get(ev.peer);
    if (seen === undefined) this.seenIds.set(ev.peer, (seen = new Set()));
    // An update of an anomaly this instance never saw open (it opened before a reconnect or a
    // restart) is its first sighting here.
    if (ev.change.kind === 'updated' && !seen.has(anomaly.id)) ev = { ...ev, change: { kind: 'opened', anomaly } };
    if (ev.change.kind === 'resolved') seen.delete(anomaly.id);
    else {
      if (seen.size >= MAX_REMEMBERED_IDS) seen.delete(seen.values().next().value!);
      seen.add(anomaly.id);
    }
    this.received.labels(ev.peer).inc();
    if (this.queue.length >= this.opts.maxQueue) {
      this.queue.shift();
      this.dropped.labels('queue_full').inc();
    }
    this.queue.push(ev);
  }

  private sleep(ms: number): Promise<void> {
    const ctl = new AbortController();
    this.controllers.add(ctl);
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      ctl.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    }).finally(() => this.controllers.delete(ctl));
  }
}
