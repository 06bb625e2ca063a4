import { randomInt } from 'node:crypto';

/**
 * Trace ids to small integer slots, for structures that keep per-trace state in typed arrays
 * instead of an object per trace (the service graph buffers tens of thousands of traces for
 * seconds; objects held that long are promoted to the old generation and swept there).
 *
 * Ids of 32 lowercase hex digits (what the decoders produce) are kept as four 32-bit words, so
 * no id string is held, in an open-addressing table (linear probing, backward-shift deletion, no
 * tombstones): a lookup is one probe of a typed array in the common case, where a JS Map with
 * tens of thousands of string keys costs several cache misses per lookup and per delete. Any
 * other id text goes to a plain Map.
 *
 * Trace ids are attacker input, so the table's hash is keyed: a multiply-add of the four words
 * with random odd multipliers per process (a universal family), so colliding ids cannot be chosen
 * without the multipliers. A probe run longer than MAX_PROBE all the same draws new multipliers
 * and rebuilds the table.
 */
const EMPTY = -1;
const MAX_PROBE = 64;

export class TraceSlots {
  /** The four words of each slot's hex id. */
  private w0: Int32Array;
  private w1: Int32Array;
  private w2: Int32Array;
  private w3: Int32Array;
  /** Full 32-bit hash of each slot's hex id (the table position is its top bits). */
  private hash: Int32Array;
  /** Next free slot (free list), -1 at the end. */
  private nextFree: Int32Array;
  /** Id text of slots whose id is not hex ('' for hex ones). */
  private readonly text: string[] = [];
  private readonly textSlots = new Map<string, number>();
  /** Open-addressing table of slots, EMPTY where none. */
  private table: Int32Array;
  private bits: number;
  private a0 = 0;
  private a1 = 0;
  private a2 = 0;
  private a3 = 0;
  private free = EMPTY;
  /** Slots ever handed out; below it a slot is live or on the free list. */
  private top = 0;
  /** Live slots. */
  size = 0;
  /** The id last parsed and its words/hash (find() then add() of the same id parse it once). */
  private parsedId = '';
  private parsedHex = false;
  private p0 = 0;
  private p1 = 0;
  private p2 = 0;
  private p3 = 0;
  /** Times the table drew new multipliers after a long probe run. */
  reseeds = 0;

  /** `draw` gives the multipliers' random bits (31 of them per call); tests inject it. */
  constructor(
    initialSlots = 1024,
    private readonly draw: () => number = () => randomInt(0, 2 ** 31),
  ) {
    const n = Math.max(16, initialSlots);
    this.w0 = new Int32Array(n);
    this.w1 = new Int32Array(n);
    this.w2 = new Int32Array(n);
    this.w3 = new Int32Array(n);
    this.hash = new Int32Array(n);
    this.nextFree = new Int32Array(n);
    this.bits = 1;
    while (1 << this.bits < 2 * n) this.bits++;
    this.table = new Int32Array(1 << this.bits).fill(EMPTY);
    this.seed();
  }

  /** Slots the per-slot arrays hold; a slot number is always below it. */
  get capacity(): number {
    return this.w0.length;
  }

  /** The live slot of `id`, or -1. */
  find(id: string): number {
    if (!this.parse(id)) return this.textSlots.get(id) ?? EMPTY;
    const h = this.keyHash();
    const mask = this.table.length - 1;
    for (let pos = h >>> (32 - this.bits); ; pos = (pos + 1) & mask) {
      const s = this.table[pos]!;
      if (s === EMPTY) return EMPTY;
      if (this.hash[s] === h && this.w0[s] === this.p0 && this.w1[s] === this.p1 && this.w2[s] === this.p2 && this.w3[s] === this.p3) return s;
    }
  }

  /** A new slot for `id`, which must not be live. May grow the per-slot arrays (see capacity). */
  add(id: string): number {
    const s = this.takeSlot();
    this.size++;
    if (!this.parse(id)) {
      this.text[s] = id;
      this.textSlots.set(id, s);
      return s;
    }
    this.text[s] = '';
    this.w0[s] = this.p0;
    this.w1[s] = this.p1;
    this.w2[s] = this.p2;
    this.w3[s] = this.p3;
    this.hash[s] = this.keyHash();
    if (2 * (this.size + 1) > this.table.length) this.rebuild(this.bits + 1);
    else if (!this.place(s)) this.reseed();
    return s;
  }

  /** Frees a live slot; its number may be handed out again by add(). */
  remove(s: number): void {
    this.size--;
    this.nextFree[s] = this.free;
    this.free = s;
    const text = this.text[s]!;
    if (text !== '') {
      this.textSlots.delete(text);
      this.text[s] = '';
      return;
    }
    const table = this.table;
    const mask = table.length - 1;
    let pos = this.hash[s]! >>> (32 - this.bits);
    while (table[pos] !== s) pos = (pos + 1) & mask;
    // Backward shift: later entries of the run move up into the hole unless that would put them
    // before their home position, so lookups never need tombstones.
    for (let next = (pos + 1) & mask; ; next = (next + 1) & mask) {
      const t = table[next]!;
      if (t === EMPTY) break;
      const home = this.hash[t]! >>> (32 - this.bits);
      if (((next - home) & mask) >= ((next - pos) & mask)) {
        table[pos] = t;
        pos = next;
      }
    }
    table[pos] = EMPTY;
  }

  /** The id of a live slot as text. */
  id(s: number): string {
    const text = this.text[s];
    if (text !== undefined && text !== '') return text;
    return hex32(this.w0[s]!) + hex32(this.w1[s]!) + hex32(this.w2[s]!) + hex32(this.w3[s]!);
  }

  /** Reads 32 lowercase hex digits into p0..p3; false for anything else. Cached for the last id. */
  private parse(id: string): boolean {
    if (id === this.parsedId) return this.parsedHex;
    this.parsedId = id;
    this.parsedHex = false;
    if (id.length !== 32) return false;
    const v0 = hexWord(id, 0);
    const v1 = hexWord(id, 8);
    const v2 = hexWord(id, 16);
    const v3 = hexWord(id, 24);
    if (v0 < 0 || v1 < 0 || v2 < 0 || v3 < 0) return false;
    this.p0 = v0 | 0;
    this.p1 = v1 | 0;
    this.p2 = v2 | 0;
    this.p3 = v3 | 0;
    this.parsedHex = true;
    return true;
  }

  private keyHash(): number {
    return (Math.imul(this.p0, this.a0) + Math.imul(this.p1, this.a1) + Math.imul(this.p2, this.a2) + Math.imul(this.p3, this.a3)) | 0;
  }

  private wordsHash(s: number): number {
    return (Math.imul(this.w0[s]!, this.a0) + Math.imul(this.w1[s]!, this.a1) + Math.imul(this.w2[s]!, this.a2) + Math.imul(this.w3[s]!, this.a3)) | 0;
  }

  private seed(): void {
    const odd = (): number => (this.draw() * 2 + 1) | 0;
    this.a0 = odd();
    this.a1 = odd();
    this.a2 = odd();
    this.a3 = odd();
  }

  /** Puts hex slot s in the table; false when its probe run exceeded MAX_PROBE (it is placed all the same). */
  private place(s: number): boolean {
    const table = this.table;
    const mask = table.length - 1;
    let pos = this.hash[s]! >>> (32 - this.bits);
    let probes = 0;
    while (table[pos] !== EMPTY) {
      pos = (pos + 1) & mask;
      probes++;
    }
    table[pos] = s;
    return probes <= MAX_PROBE;
  }

  private reseed(): void {
    this.reseeds++;
    this.seed();
    // The cached parse keeps its words; its hash is recomputed from the new multipliers on use.
    for (let s = 0; s < this.top; s++) this.hash[s] = this.wordsHash(s);
    this.rebuild(this.bits);
  }

  /** Re-places every live hex slot in a table of 2^bits positions. */
  private rebuild(bits: number): void {
    this.bits = bits;
    this.table = new Int32Array(1 << bits).fill(EMPTY);
    const live = new Uint8Array(this.top).fill(1);
    for (let s = this.free; s !== EMPTY; s = this.nextFree[s]!) live[s] = 0;
    for (let s = 0; s < this.top; s++) if (live[s] === 1 && this.text[s] === '') this.place(s);
  }

  private takeSlot(): number {
    const s = this.free;
    if (s !== EMPTY) {
      this.free = this.nextFree[s]!;
      return s;
    }
    if (this.top === this.w0.length) this.grow();
    return this.top++;
  }

  private grow(): void {
    const n = this.w0.length * 2;
    const i32 = (a: Int32Array): Int32Array => {
      const out = new Int32Array(n);
      out.set(a);
      return out;
    };
    this.w0 = i32(this.w0);
    this.w1 = i32(this.w1);
    this.w2 = i32(this.w2);
    this.w3 = i32(this.w3);
    this.hash = i32(this.hash);
    this.nextFree = i32(this.nextFree);
  }
}

/** The 8 lowercase hex digits at id[at..at+8) as an unsigned value, -1 when any is not one. */
function hexWord(id: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = id.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
