/**
 * Reusable request-body buffers for the HTTP receiver. A 512-span export is ~200 KB; allocating
 * a fresh buffer of that size per request costs an allocation outside the JS heap each time and
 * adds external memory pressure, which makes the garbage collector run more often. Bodies that
 * are decoded synchronously and not kept afterwards go back to the pool.
 */
export class BodyPool {
  private readonly free: Buffer[] = [];

  /**
   * @param maxBuffers buffers kept for reuse at most (about the number of concurrent requests)
   * @param maxBufferBytes larger bodies get a buffer of their own that is never pooled
   */
  constructor(
    readonly maxBuffers = 8,
    readonly maxBufferBytes = 4 * 1024 * 1024,
  ) {}

  /** A buffer of exactly `size` bytes (contents undefined); a view on a pooled one when possible. */
  take(size: number): Buffer {
    if (size > this.maxBufferBytes) return Buffer.allocUnsafeSlow(size);
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.length >= size) {
        free[i] = free[free.length - 1]!;
        free.pop();
        return b.subarray(0, size);
      }
    }
    // Rounded up so a slightly larger request later can reuse it.
    const capacity = Math.min(this.maxBufferBytes, Math.max(64 * 1024, roundUp(size, 64 * 1024)));
    return Buffer.allocUnsafeSlow(capacity).subarray(0, size);
  }

  /** Returns a buffer from take(); the caller must not use it (or views on it) afterwards. */
  give(body: Buffer): void {
    const whole = Buffer.from(body.buffer, body.byteOffset, body.buffer.byteLength - body.byteOffset);
    if (body.byteOffset !== 0 || whole.length > this.maxBufferBytes || whole.length < 64 * 1024) return;
    if (this.free.length >= this.maxBuffers) return;
    if (this.free.some((b) => b.buffer === whole.buffer)) return;
    this.free.push(whole);
  }

  /** Buffers waiting for reuse (tests). */
  get size(): number {
    return this.free.length;
  }
}

function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}
