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
  /** The four words of each slot's hex id, side by side: words[4s .. 4s + 3]. */
  private words: Int32Array;
  /** Next free slot (free list), -1 at the end. */
  private nextFree: Int32Array;
  /** Id text of slots whose id is not hex (undefined for hex ones; '' is an id like any other). */
  private readonly text: Array<string | undefined> = [];
  private readonly textSlots = new Map<string, number>();
  /**
   * Open-addressing table of (slot, hash) pairs, slot EMPTY where none: a probe compares the
   * hash beside the slot before it reads the slot's words, and moves entries without them.
   */
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
  /** The id last parsed and its words (find() then add() of the same id parse it once). */
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
    this.words = new Int32Array(4 * n);
    this.nextFree = new Int32Array(n);
    this.bits = 1;
    while (1 << this.bits < 2 * n) this.bits++;
    this.table = new Int32Array(2 << this.bits).fill(EMPTY);
    this.seed();
  }

  /** Slots the per-slot arrays hold; a slot number is always below it. */
  get capacity(): number {
    return this.nextFree.length;
  }

  /** The live slot of `id`, or -1. */
  find(id: string): number {
    if (!this.parse(id)) return this.textSlots.get(id) ?? EMPTY;
    const h = this.keyHash();
    const table = this.table;
    const words = this.words;
    const mask = (table.length >> 1) - 1;
    for (let pos = h >>> (32 - this.bits); ; pos = (pos + 1) & mask) {
      const s = table[2 * pos]!;
      if (s === EMPTY) return EMPTY;
      if (table[2 * pos + 1] === h && words[4 * s] === this.p0 && words[4 * s + 1] === this.p1 && words[4 * s + 2] === this.p2 && words[4 * s + 3] === this.p3) return s;
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
    this.text[s] = undefined;
    const w = 4 * s;
    this.words[w] = this.p0;
    this.words[w + 1] = this.p1;
    this.words[w + 2] = this.p2;
    this.words[w + 3] = this.p3;
    if (2 * (this.size + 1) > this.table.length >> 1) this.rebuild(this.bits + 1, false);
    if (!this.place(s, this.keyHash())) this.rebuild(this.bits, true);
    return s;
  }

  /** Frees a live slot; its number may be handed out again by add(). */
  remove(s: number): void {
    this.size--;
    this.nextFree[s] = this.free;
    this.free = s;
    const text = this.text[s];
    if (text !== undefined) {
      this.textSlots.delete(text);
      this.text[s] = undefined;
      return;
    }
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    const shift = 32 - this.bits;
    let pos = this.wordsHash(s) >>> shift;
    while (table[2 * pos] !== s) pos = (pos + 1) & mask;
    // Backward shift: later entries of the run move up into the hole unless that would put them
    // before their home position, so lookups never need tombstones.
    for (let next = (pos + 1) & mask; ; next = (next + 1) & mask) {
      const t = table[2 * next]!;
      if (t === EMPTY) break;
      const th = table[2 * next + 1]!;
      const home = th >>> shift;
      if (((next - home) & mask) >= ((next - pos) & mask)) {
        table[2 * pos] = t;
        table[2 * pos + 1] = th;
        pos = next;
      }
    }
    table[2 * pos] = EMPTY;
  }

  /** The id of a live slot as text. */
  id(s: number): string {
    const text = this.text[s];
    if (text !== undefined) return text;
    const w = 4 * s;
    return hex32(this.words[w]!) + hex32(this.words[w + 1]!) + hex32(this.words[w + 2]!) + hex32(this.words[w + 3]!);
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
    const w = this.words;
    const i = 4 * s;
    return (Math.imul(w[i]!, this.a0) + Math.imul(w[i + 1]!, this.a1) + Math.imul(w[i + 2]!, this.a2) + Math.imul(w[i + 3]!, this.a3)) | 0;
  }

  private seed(): void {
    const odd = (): number => (this.draw() * 2 + 1) | 0;
    this.a0 = odd();
    this.a1 = odd();
    this.a2 = odd();
    this.a3 = odd();
  }

  /** Puts hex slot s with hash h in the table; false when its probe run exceeded MAX_PROBE (it is placed all the same). */
  private place(s: number, h: number): boolean {
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let pos = h >>> (32 - this.bits);
    let probes = 0;
    while (table[2 * pos] !== EMPTY) {
      pos = (pos + 1) & mask;
      probes++;
    }
    table[2 * pos] = s;
    table[2 * pos + 1] = h;
    return probes <= MAX_PROBE;
  }

  /** Re-places every entry in a table of 2^bits positions; with `reseed`, under new multipliers. */
  private rebuild(bits: number, reseed: boolean): void {
    if (reseed) {
      this.reseeds++;
      this.seed();
    }
    const old = this.table;
    this.bits = bits;
    this.table = new Int32Array(2 << bits).fill(EMPTY);
    for (let p = 0; p < old.length; p += 2) {
      const s = old[p]!;
      if (s !== EMPTY) this.place(s, reseed ? this.wordsHash(s) : old[p + 1]!);
    }
  }

  private takeSlot(): number {
    const s = this.free;
    if (s !== EMPTY) {
      this.free = this.nextFree[s]!;
      return s;
    }
    if (this.top === this.nextFree.length) this.grow();
    return this.top++;
  }

  private grow(): void {
    const n = this.nextFree.length * 2;
    const words = new Int32Array(4 * n);
    words.set(this.words);
    this.words = words;
    const nextFree = new Int32Array(n);
    nextFree.set(this.nextFree);
    this.nextFree = nextFree;
  }
}

/** Value of each lowercase hex digit by char code, -1 for every other code below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) HEX_VALUE['0123456789abcdef'.charCodeAt(c)] = c;

/** The 8 lowercase hex digits at id[at..at+8) as an unsigned value, -1 when any is not one. */
function hexWord(id: string, at: number): number {
  let v = 0;
  let bad = 0;
  for (let i = at; i < at + 8; i++) {
    const c = id.charCodeAt(i);
    const d = c < 128 ? HEX_VALUE[c]! : -1;
    bad |= d;
    v = v * 16 + d;
  }
  return bad < 0 ? -1 : v;
}

function hex32(v: number): string {
  return (v >>> 0).toString(16).padStart(8, '0');
}
