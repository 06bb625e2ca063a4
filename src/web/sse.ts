import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { sendJson, type RouteHandler } from './admin-server.js';
import type { EventBus, StoredEvent } from '../emit/event-bus.js';

export interface EventStreamOptions {
  /** Comment lines keep proxies and browsers from timing the stream out. */
  heartbeatMs?: number;
  /** Reconnect delay suggested to EventSource clients. */
  retryMs?: number;
}

const SeqSchema = z.coerce.number().int().min(0);
const KindSchema = z.string().regex(/^[A-Za-z0-9_.*-]{1,100}$/);

export interface StreamRequest {
  afterSeq: number;
  kinds: string[];
}

/**
 * Reads ?after=<seq>&kinds=a,b and the Last-Event-ID header (sent by a reconnecting
 * EventSource); the later of the two wins so a reconnect never replays what was seen.
 */
export function parseStreamRequest(url: URL, lastEventId: string | undefined): StreamRequest | { error: string } {
  let afterSeq = 0;
  const after = url.searchParams.get('after');
  if (after !== null && after !== '') {
    const p = SeqSchema.safeParse(after);
    if (!p.success) return { error: "invalid query parameter 'after': expected a non-negative integer" };
    afterSeq = p.data;
  }
  if (lastEventId !== undefined && lastEventId !== '') {
    const p = SeqSchema.safeParse(lastEventId);
    if (!p.success) return { error: "invalid header 'Last-Event-ID': expected a non-negative integer" };
    afterSeq = Math.max(afterSeq, p.data);
  }
  const kinds = (url.searchParams.get('kinds') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const k of kinds) {
    if (!KindSchema.safeParse(k).success) return { error: `invalid query parameter 'kinds': bad kind '${k.slice(0, 100)}'` };
  }
  return { afterSeq, kinds };
}

/** One SSE frame; the JSON has no raw newlines, so a single data line is enough. */
export function formatSseEvent(e: StoredEvent): string {
  const data = {
    seq: e.seq,
    kind: e.kind,
    timeMs: e.timeMs,
    anomalyId: e.anomalyId,
    diagnosisId: e.diagnosisId,
    payload: e.payload,
  };
  return `id: ${e.seq}\nevent: ${e.kind}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Streams bus events to one HTTP response until either side closes. */
export function streamEvents(req: IncomingMessage, res: ServerResponse, bus: EventBus, r: StreamRequest, opts: EventStreamOptions = {}): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${opts.retryMs ?? 2000}\n: stream after ${r.afterSeq}\n\n`);
  const sub = bus.subscribe(r.afterSeq, r.kinds, (e) => res.write(formatSseEvent(e)), {
    // Overflow or shutdown: end the response; the client reconnects with Last-Event-ID.
    onClose: () => res.end(),
  });
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), opts.heartbeatMs ?? 15_000);
  heartbeat.unref();
  res.on('drain', () => sub.resume());
  const stop = (): void => {
    clearInterval(heartbeat);
    sub.close();
  };
  res.on('close', stop);
  req.on('close', stop);
}

/** GET /api/v1/events */
export function eventStreamRoute(bus: EventBus, opts: EventStreamOptions = {}): RouteHandler {
  return (req, res, _params, url) => {
    const header = req.headers['last-event-id'];
    const parsed = parseStreamRequest(url, Array.isArray(header) ? header[0] : header);
    if ('error' in parsed) {
      sendJson(res, 400, { error: parsed.error });
      return;
    }
    streamEvents(req, res, bus, parsed, opts);
  };
}
