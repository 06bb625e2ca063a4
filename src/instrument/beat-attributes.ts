import type { Attributes } from '@opentelemetry/api';
import { BEAT_ATTR, OTEL_ATTR } from '../model/attributes.js';
import { beatNumberOf, text, type ConductorSequence, type MusicalContext } from './conductor-shapes.js';

/** One declared beat, flattened out of a sequence definition. */
export interface BeatSpec {
  sequenceId: string;
  sequenceName: string;
  movement: string;
  beatNumber: number | undefined;
  event: string;
  handler: string;
  kind: string;
}

/** Every beat of a sequence definition, in declared order (beats without a handler included). */
export function beatSpecs(sequence: ConductorSequence): BeatSpec[] {
  const specs: BeatSpec[] = [];
  const sequenceId = text(sequence.id);
  const sequenceName = text(sequence.name) || sequenceId;
  for (const movement of Array.isArray(sequence.movements) ? sequence.movements : []) {
    const beats = Array.isArray(movement?.beats) ? movement.beats : [];
    for (const beat of beats) {
      if (typeof beat !== 'object' || beat === null) continue;
      specs.push({
        sequenceId,
        sequenceName,
        movement: text(movement.name) || text(movement.id),
        beatNumber: beatNumberOf(beat.beat ?? beat.number),
        event: text(beat.event),
        handler: text(beat.handler),
        kind: text(beat.kind),
      });
    }
  }
  return specs;
}

/**
 * The declared beat a handler call belongs to: the one with this handler and the event, movement
 * and number the conductor says it is running; a handler bound to one beat only needs its name.
 */
export function findBeat(specs: readonly BeatSpec[], handler: string, mc: MusicalContext | undefined): BeatSpec | undefined {
  let fallback: BeatSpec | undefined;
  for (const s of specs) {
    if (s.handler !== handler) continue;
    if (mc === undefined) return s;
    if (s.event === mc.event && s.movement === mc.movement && s.beatNumber === mc.beatNumber) return s;
    if (fallback === undefined || (s.event === mc.event && fallback.event !== mc.event)) fallback = s;
  }
  return fallback;
}

/** Declared sequences by id and by name, for what a mounted definition leaves out (kind, id). */
export class SequenceCatalog {
  private readonly byKey = new Map<string, BeatSpec[]>();

  constructor(sequences: readonly ConductorSequence[] = []) {
    for (const s of sequences) this.add(s);
  }

  add(sequence: ConductorSequence): void {
    const specs = beatSpecs(sequence);
    for (const key of [text(sequence.id), text(sequence.name)]) if (key !== '' && !this.byKey.has(key)) this.byKey.set(key, specs);
  }

  /** The declared beats of the sequence with this id or name. */
  get(idOrName: string): readonly BeatSpec[] | undefined {
    return this.byKey.get(idOrName);
  }
}

function put(attrs: Attributes, key: string, value: string | number | undefined): void {
  if (value !== undefined && value !== '') attrs[key] = value;
}

/**
 * The `beat.*` attributes of one handler run (docs/beat-conventions.md). What the conductor says
 * it is running (`data._musicalContext`) wins for sequence name, movement, beat number and event;
 * the definition adds the sequence id, handler and kind; the plugin is the id the sequence was
 * mounted under; `declared` (the app's declared copy of the sequence) fills the kind when the
 * mounted definition has none.
 */
export function beatAttributes(
  handler: string,
  plugin: string,
  spec: BeatSpec | undefined,
  mc: MusicalContext | undefined,
  declared?: BeatSpec,
): Attributes {
  const attrs: Attributes = {};
  put(attrs, BEAT_ATTR.sequence, mc?.sequenceName || spec?.sequenceName || declared?.sequenceName);
  put(attrs, BEAT_ATTR.sequenceId, spec?.sequenceId || declared?.sequenceId);
  put(attrs, BEAT_ATTR.movement, mc?.movement || spec?.movement);
  put(attrs, BEAT_ATTR.number, mc?.beatNumber ?? spec?.beatNumber);
  put(attrs, BEAT_ATTR.event, mc?.event || spec?.event);
  put(attrs, BEAT_ATTR.handler, handler);
  put(attrs, BEAT_ATTR.plugin, plugin);
  put(attrs, BEAT_ATTR.kind, spec?.kind || declared?.kind);
  put(attrs, BEAT_ATTR.correlationId, mc?.requestId);
  put(attrs, OTEL_ATTR.codeFunction, handler);
  return attrs;
}
