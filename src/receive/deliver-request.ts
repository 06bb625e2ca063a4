import type { Beat, BeatSink } from '../model/beat.js';
import type { Admission } from './admission.js';
import type { DecodeResult } from './beat-builder.js';

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
