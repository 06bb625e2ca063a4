import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Runs a stepped computation (a generator that yields between bounded steps) to its result,
 * handing the event loop back whenever a turn has run for `budgetMs`: at many keys one
 * evaluation takes longer than a receiver or /healthz may wait. Steps run back to back while the
 * turn has budget left, so a small computation still finishes in one turn.
 */
export async function runInTurns<T>(steps: Generator<void, T, void>, budgetMs: number, now: () => number = () => performance.now()): Promise<T> {
  let turnStart = now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (now() - turnStart >= budgetMs) {
      await nextTurn();
      turnStart = now();
    }
  }
}
