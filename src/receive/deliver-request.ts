import type { Beat, BeatSink } from '../model/beat.js';
import type { Admission } from './admission.js';
import type { DecodeResult } from './beat-builder.js';
import { sliceExportRequest } from './export-request-slices.js';

/** Where decoded beats go. */
export interface Delivery {
  admission: Admission;
  sink: BeatSink;
  /** Called with each batch of beats once the sink has taken it (metrics). */
  onBeats(beats: Beat[]): void;
}

/**
 * Decodes one request and hands its beats to the sink through the admission, so they count as
 * in flight until the sink is done with them. Synchronous for a synchronous sink; a promise when
 * the sink returns one, settled when the sink's is, so a receiver answers only once the spans it
 * reports as accepted have been processed. Decode errors are thrown before anything is delivered.
 */
export function deliverRequest<T>(request: T, decode: (request: T) => DecodeResult, d: Delivery): DecodeResult | Promise<DecodeResult> {
  const result = decode(request);
  const beats = result.beats;
  if (beats.length === 0) return result;
  const pending = d.admission.deliver(d.sink, beats, beats.length);
  if (pending === undefined) {
    d.onBeats(beats);
    return result;
  }
  return pending.then(() => {
    d.onBeats(beats);
    return result;
  });
}

/** Slices are cut at about this many bytes: a few milliseconds of decoding and detection each. */
export const SLICE_BYTES = 256 * 1024;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Processes a protobuf export request; one larger than SLICE_BYTES is cut into slices
 * (export-request-slices.ts) processed one per event-loop turn, so health checks and other
 * requests are served in between. Its records count as in flight from the start and are released
 * slice by slice. A slice that fails to decode ends the request with that error; slices before it
 * have been processed.
 */
export function deliverExportRequest(body: Uint8Array, decode: (slice: Uint8Array) => DecodeResult, d: Delivery): DecodeResult | Promise<DecodeResult> {
  const sliced = sliceExportRequest(body, SLICE_BYTES);
  if (sliced === undefined) return deliverRequest(body, decode, d);
  return deliverSlices(sliced.slices, sliced.records, decode, d);
}

/** Decodes and delivers the slices in order, one per turn, holding their records until processed. */
export async function deliverSlices<T>(slices: readonly T[], records: readonly number[], decode: (slice: T) => DecodeResult, d: Delivery): Promise<DecodeResult> {
  let held = records.reduce((s, n) => s + n, 0);
  d.admission.hold(held);
  const total: DecodeResult = { beats: [], spans: 0, rejected: 0, rejectMessage: '' };
  try {
    for (let i = 0; i < slices.length; i++) {
      if (i > 0) await nextTurn();
      const r = decode(slices[i]!);
      total.spans += r.spans;
      total.rejected += r.rejected;
      if (total.rejectMessage === '') total.rejectMessage = r.rejectMessage;
      if (r.beats.length > 0) {
        const pending: unknown = d.sink(r.beats);
        if (pending instanceof Promise) await pending;
        d.onBeats(r.beats);
      }
      d.admission.release(records[i]!);
      held -= records[i]!;
    }
  } finally {
    d.admission.release(held);
  }
  return total;
}
