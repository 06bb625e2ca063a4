/**
 * musical-conductor checks each handler's source for direct `console.*` calls at mount time
 * (SPAValidator.detectDirectConsoleUsage, which reads `Function.prototype.toString`) and, in its
 * `error` mode, drops such handlers. A wrapper's source would hide that, so the check is pointed
 * back at the original function while any instrumentation is active.
 */

const originals = new WeakMap<object, object>();

/** Remembers which function a tracing wrapper stands for. */
export function trackOriginal(wrapper: object, original: object): void {
  originals.set(wrapper, originals.get(original) ?? original);
}

/** The function a wrapper stands for, or the function itself. */
export function originalOf<T extends object>(fn: T): T {
  return (originals.get(fn) as T | undefined) ?? fn;
}

interface Validator {
  detectDirectConsoleUsage?: (fn: unknown) => boolean;
}

const installed = new WeakMap<Validator, { users: number; own: PropertyDescriptor | undefined }>();

/**
 * Makes the validator see original handlers; returns the undo. Shared validators (the
 * conductor's core is a singleton) are patched once and restored when the last user undoes.
 */
export function unwrapForConsoleCheck(validator: unknown): () => void {
  const v = validator as Validator | undefined;
  if (typeof v !== 'object' || v === null || typeof v.detectDirectConsoleUsage !== 'function') return () => {};
  let state = installed.get(v);
  if (state === undefined) {
    const own = Object.getOwnPropertyDescriptor(v, 'detectDirectConsoleUsage');
    const check = v.detectDirectConsoleUsage;
    v.detectDirectConsoleUsage = function (this: unknown, fn: unknown) {
      return check.call(this, typeof fn === 'function' ? originalOf(fn) : fn);
    };
    state = { users: 0, own };
    installed.set(v, state);
  }
  state.users++;
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    const s = installed.get(v);
    if (s === undefined || --s.users > 0) return;
    installed.delete(v);
    if (s.own !== undefined) Object.defineProperty(v, 'detectDirectConsoleUsage', s.own);
    else delete v.detectDirectConsoleUsage;
  };
}
