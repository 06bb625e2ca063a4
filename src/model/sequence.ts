import { z } from 'zod';
import { MAX_BEAT_KIND_LENGTH } from './beat.js';

/**
 * A declared sequence in the MusicalConductor JSON format: a sequence holds movements, a movement
 * holds numbered beats, and each beat names the event it answers and the handler that runs.
 * Unknown fields are kept (passthrough) because application repositories add their own.
 */
export const SequenceBeatSchema = z
  .looseObject({
    beat: z.number().int().nonnegative(),
    event: z.string().min(1),
    handler: z.string().min(1),
    title: z.string().optional(),
    plugin: z.string().optional(),
    /** `pure`, `stage-crew`, or an application's own kind (`io`, `validation`, ...). */
    kind: z.string().min(1).max(MAX_BEAT_KIND_LENGTH).optional(),
    timing: z.string().optional(),
    dynamics: z.string().optional(),
    /** Test file that covers this beat's handler, relative to the repository root. */
    testFile: z.string().optional(),
  });

export const MovementSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  beats: z.array(SequenceBeatSchema),
});

export const SequenceSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  pluginId: z.string().optional(),
  movements: z.array(MovementSchema).min(1),
});

export type SequenceBeat = z.infer<typeof SequenceBeatSchema>;
export type Movement = z.infer<typeof MovementSchema>;
export type Sequence = z.infer<typeof SequenceSchema>;
