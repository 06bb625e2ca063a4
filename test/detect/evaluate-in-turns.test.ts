import { describe, expect, it } from 'vitest';
import { runInTurns } from '../../src/detect/evaluate-in-turns.js';

/** A computation of `steps` steps whose result is the number of steps run. */
function* counting(steps: number, log: string[]): Generator<void, number, void> {
  for (let i = 1; i < steps; i++) {
    log.push(`step ${i}`);
    yield;
  }
  log.push(`step ${steps}`);
  return steps;
}

/** A clock that moves `stepMs` every time it is read. */
function ticking(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

describe('runInTurns', () => {
  it('returns the computation’s result', async () => {
    expect(await runInTurns(counting(5, []), 1_000, ticking(1))).toBe(5);
  });

  it('hands the event loop back once a turn has used its budget, and only then', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other work'));
    // Each step is seen 10 ms after the last: a 25 ms budget pauses after every third step.
    await runInTurns(counting(6, log), 25, ticking(10));
    expect(log).toEqual(['step 1', 'step 2', 'step 3', 'other work', 'step 4', 'step 5', 'step 6']);
  });

  it('finishes a computation that fits its budget without giving the loop away', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('other work'));
    await runInTurns(counting(4, log), 1_000, ticking(1));
    expect(log).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
  });

  it('passes the computation’s error on', async () => {
    function* failing(): Generator<void, number, void> {
      yield;
      throw new Error('detector broke');
    }
    await expect(runInTurns(failing(), 0, ticking(1))).rejects.toThrow('detector broke');
  });
});
