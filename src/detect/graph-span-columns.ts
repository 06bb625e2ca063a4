import type { Beat } from '../model/beat.js';

/** Flags per slot: the span id is in idHi/idLo (16 lowercase hex digits), else in spanIdText. */
const ID_HEX = 1;
/** The parent span id is in parentHi/parentLo, else in parentIdText. */
const PARENT_HEX = 2;
/** No parent span id (a root span). */
const PARENT_NONE = 4;

/**
 * The spans the service graph buffers until their trace is folded, stored in columns: one slot
 * per span in typed arrays (times, status, kind, the chain link, the span and parent ids as two
 * 32-bit halves each) and arrays of strings for service and span name (interned, shared by many
 * spans) and for ids that are not 16 lowercase hex digits (only hand-made ones). The graph holds each span for
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
  idHi: Int32Array;
  idLo: Int32Array;
  parentHi: Int32Array;
  parentLo: Int32Array;
  private flags: Uint8Array;
  readonly service: string[] = [];
  readonly spanName: string[] = [];
  /** Ids that are not 16 lowercase hex digits, as sent ('' for hex ones). */
  private readonly spanIdText: string[] = [];
  private readonly parentIdText: string[] = [];
  /** The last parent id parsed: siblings share it, and the decoders hand out the same string for them. */
  private lastParent = '';
  private lastParentHi = 0;
  private lastParentLo = 0;
  private lastParentHex = false;
  private hexHi = 0;
  private hexLo = 0;
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
    this.idHi = new Int32Array(n);
    this.idLo = new Int32Array(n);
    this.parentHi = new Int32Array(n);
    this.parentLo = new Int32Array(n);
    this.flags = new Uint8Array(n);
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
    let flags = 0;
    if (this.parseHex(b.spanId)) {
      flags = ID_HEX;
      this.idHi[s] = this.hexHi;
      this.idLo[s] = this.hexLo;
      this.spanIdText[s] = '';
    } else this.spanIdText[s] = b.spanId;
    const parent = b.parentSpanId;
    if (parent === '') {
      flags |= PARENT_NONE;
      this.parentIdText[s] = '';
    } else {
      if (parent !== this.lastParent) {
        this.lastParent = parent;
        this.lastParentHex = this.parseHex(parent);
        this.lastParentHi = this.hexHi;
        this.lastParentLo = this.hexLo;
      }
      if (this.lastParentHex) {
        flags |= PARENT_HEX;
        this.parentHi[s] = this.lastParentHi;
        this.parentLo[s] = this.lastParentLo;
        this.parentIdText[s] = '';
      } else this.parentIdText[s] = parent;
    }
    this.flags[s] = flags;
    this.used++;
    return s;
  }

  /** True when slots a and b hold spans with the same span id. */
  sameSpanId(a: number, b: number): boolean {
    const fa = this.flags[a]! & ID_HEX;
    if (fa !== (this.flags[b]! & ID_HEX)) return false;
    if (fa !== 0) return this.idHi[a] === this.idHi[b] && this.idLo[a] === this.idLo[b];
    return this.spanIdText[a] === this.spanIdText[b];
  }

  /** True when the span in `child` names the span in `parent` as its parent. */
  isParentOf(parent: number, child: number): boolean {
    const fc = this.flags[child]!;
    if ((fc & PARENT_NONE) !== 0) return false;
    const hex = (fc & PARENT_HEX) !== 0;
    if (hex !== ((this.flags[parent]! & ID_HEX) !== 0)) return false;
    if (hex) return this.parentHi[child] === this.idHi[parent] && this.parentLo[child] === this.idLo[parent];
    return this.parentIdText[child] === this.spanIdText[parent];
  }

  /** True for a span without a parent span id (a root). */
  isRoot(s: number): boolean {
    return (this.flags[s]! & PARENT_NONE) !== 0;
  }

  /** The span id as sent (rebuilt from its halves when hex). */
  spanId(s: number): string {
    return (this.flags[s]! & ID_HEX) !== 0 ? hex32(this.idHi[s]!) + hex32(this.idLo[s]!) : this.spanIdText[s]!;
  }

  /** The parent span id as sent, '' for a root. */
  parentSpanId(s: number): string {
    const f = this.flags[s]!;
    if ((f & PARENT_NONE) !== 0) return '';
    return (f & PARENT_HEX) !== 0 ? hex32(this.parentHi[s]!) + hex32(this.parentLo[s]!) : this.parentIdText[s]!;
  }

  /** Reads 16 lowercase hex digits into hexHi/hexLo; false for anything else. */
  private parseHex(id: string): boolean {
    if (id.length !== 16) return false;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < 16; i++) {
      const c = id.charCodeAt(i);
      let v: number;
      if (c >= 48 && c <= 57) v = c - 48;
      else if (c >= 97 && c <= 102) v = c - 87;
      else return false;
      if (i < 8) hi = (hi << 4) | v;
      else lo = (lo << 4) | v;
    }
    this.hexHi = hi;
    this.hexLo = lo;
    return true;
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
    const i32 = (a: Int32Array): Int32Array => {
      const out = new Int32Array(n);
      out.set(a);
      return out;
    };
    this.idHi = i32(this.idHi);
    this.idLo = i32(this.idLo);
    this.parentHi = i32(this.parentHi);
    this.parentLo = i32(this.parentLo);
    this.flags = u8(this.flags);
  }
}

/** Eight lowercase hex digits of a 32-bit value. */
function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
