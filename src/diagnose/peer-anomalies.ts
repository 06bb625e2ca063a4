import { z } from 'zod';
import { signalKeyOfAnomaly, type SignalKind, type SignalScore } from '../detect/service-signals.js';
import { AnomalySchema, type AnomalyChange } from '../model/anomaly.js';

/** One anomaly change another instance published, as its event stream carries it. */
export interface PeerAnomalyChange {
  peer: string;
  /** The peer's event sequence number (resume point after a reconnect). */
  seq: number;
  /** When the peer published it (its wall clock). */
  timeMs: number;
  change: AnomalyChange;
}

const PeerEventSchema = z.object({
  seq: z.number().int().min(0),
  timeMs: z.number(),
  kind: z.enum(['anomaly.opened', 'anomaly.updated', 'anomaly.resolved']),
  payload: AnomalySchema,
});

/**
 * The `data:` of one event-stream frame from a peer, checked: a peer is another process and its
 * stream crosses the network, so a frame that is not an anomaly event is refused with a reason.
 */
export function parsePeerEvent(peer: string, data: string): PeerAnomalyChange | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { error: `peer ${peer}: event data is not JSON` };
  }
  const p = PeerEventSchema.safeParse(json);
  if (!p.success) {
    const issue = p.error.issues[0]!;
    return { error: `peer ${peer}: not an anomaly event (${issue.path.join('.') || 'event'}: ${issue.message})` };
  }
  const kind = p.data.kind.slice('anomaly.'.length) as AnomalyChange['kind'];
  return { peer, seq: p.data.seq, timeMs: p.data.timeMs, change: { kind, anomaly: p.data.payload } };
}

const SIGNAL_KINDS: ReadonlySet<string> = new Set<SignalKind>(['self', 'latency', 'own-failures', 'error-logs', 'endpoint-failures', 'edge-gap']);

/**
 * The service-level signal score an anomaly of the service signals stands for, so a correlator
 * can rank root causes with evidence from services whose traffic it never sees. Undefined for
 * the engine's handler and sequence anomalies (they join incidents, they do not open them).
 */
export function signalScoreOf(a: AnomalyChange['anomaly']): SignalScore | undefined {
  const key = signalKeyOfAnomaly(a.key);
  if (key === undefined) return undefined;
  const kind = a.details.signal;
  const z = a.details.z;
  if (typeof kind !== 'string' || !SIGNAL_KINDS.has(kind) || typeof z !== 'number') return undefined;
  const first = (r: Record<string, number>): number => Object.values(r)[0] ?? 0;
  const caller = a.details.caller;
  return {
    key,
    kind: kind as SignalKind,
    service: a.service,
    ...(typeof caller === 'string' ? { caller } : {}),
    ...(a.handler !== undefined ? { operation: a.handler } : {}),
    z,
    observed: first(a.observed),
    expected: first(a.expected),
    discovered: true,
  };
}

/**
 * Incremental parser of a text/event-stream body (the WHATWG EventSource rules we need: `id:`,
 * `event:`, `data:` lines, blank line ends an event, `:` comments ignored). Lines longer than
 * `maxLine` mean the peer is not speaking the protocol; the caller drops the connection.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private id: string | undefined;

  constructor(private readonly maxLine = 4 * 1024 * 1024) {}

  /** Feeds a chunk; returns the events it completed. Throws when a line exceeds maxLine. */
  push(chunk: string): Array<{ id?: string; data: string }> {
    this.buffer += chunk;
    const out: Array<{ id?: string; data: string }> = [];
    for (;;) {
      const nl = this.buffer.search(/\r\n|\r|\n/);
      if (nl < 0) break;
      // A CR at the end of the chunk may be the first half of a CRLF.
      if (this.buffer[nl] === '\r' && nl === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(this.buffer[nl] === '\r' && this.buffer[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (line === '') {
        if (this.data.length > 0) out.push({ ...(this.id !== undefined ? { id: this.id } : {}), data: this.data.join('\n') });
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'data') this.data.push(value);
      else if (field === 'id') this.id = value;
    }
    if (this.buffer.length > this.maxLine) throw new Error(`event-stream line longer than ${this.maxLine} characters`);
    return out;
  }
}
