import type { Beat } from '../model/beat.js';

/**
 * The spans the service graph buffers until their trace is folded, stored in columns: one slot
 * per span in typed arrays (times, status, kind, the chain link) and four arrays of strings
 * (service and span name, which are interned, and the span ids). The graph holds each span for
 * its trace grace (seconds); an object per span held that long is promoted to the old generation
 * and swept there, which made the garbage collector one of the largest costs of `serve`. A slot
 * is reused once its trace is folded, so the columns only grow to the most spans ever buffered
 * at once.
 *
 * A trace's spans are a chain of slots in arrival order (`next`, -1 at the end); `release`
 * returns a whole chain to the free list in O(1).
 */
export class GraphSpanColumns {
  startMs: Float64Array;
  durationMs: Float64Array;
  /** Next slot of the same trace, -1 at the end of the chain (and on the free list, the next free slot). */
  next: Int32Array;
  status: Uint8Array;
  kind: Uint8Array;
  readonly service: string[] = [];
  readonly spanName: string[] = [];
  readonly spanId: string[] = [];
  readonly parentSpanId: string[] = [];
  private free = -1;
  /** Slots ever used; those below it are either in a chain or on the free list. */
  private top = 0;
  /** Slots currently in a chain. */
  used = 0;

  constructor(initialSlots = 1024) {
    const n = Math.max(1, initialSlots);
    this.startMs = new Float64Array(n);
    this.durationMs = new Float64Array(n);
    this.next = new Int32Array(n);
    this.status = new Uint8Array(n);
    this.kind = new Uint8Array(n);
  }

  get capacity(): number {
    return this.next.length;
  }

  /** Stores the fields of `b` the graph folds in a free slot (the chain link left at -1). */
  add(b: Beat): number {
    let s = this.free;
    if (s !== -1) this.free = this.next[s]!;
    else {
      if (this.top === this.next.length) this.grow();
      s = this.top++;
    }
    this.startMs[s] = b.startMs;
    this.durationMs[s] = b.durationMs;
    this.next[s] = -1;
    this.status[s] = b.status;
    this.kind[s] = b.spanKind ?? 0;
    this.service[s] = b.service;
    this.spanName[s] = b.spanName;
    this.spanId[s] = b.spanId;
    this.parentSpanId[s] = b.parentSpanId;
    this.used++;
    return s;
  }

  /** Frees the chain head..tail of `count` slots (a folded trace). */
  release(head: number, tail: number, count: number): void {
    this.next[tail] = this.free;
    this.free = head;
    this.used -= count;
  }

  private grow(): void {
    const n = this.next.length * 2;
    const f64 = (a: Float64Array): Float64Array => {
      const out = new Float64Array(n);
      out.set(a);
      return out;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const out = new Uint8Array(n);
      out.set(a);
      return out;
    };
    this.startMs = f64(this.startMs);
    this.durationMs = f64(this.durationMs);
    const next = new Int32Array(n);
    next.set(this.next);
    this.next = next;
    this.status = u8(this.status);
    this.kind = u8(this.kind);
  }
}
