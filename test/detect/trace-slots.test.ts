import { describe, expect, it } from 'vitest';
import { TraceSlots } from '../../src/detect/trace-slots.js';

const hexId = (n: number): string => n.toString(16).padStart(32, '0');

describe('TraceSlots', () => {
  it('finds what was added, forgets what was removed and reuses freed slots, for hex and other ids', () => {
    const t = new TraceSlots(16);
    const ids = ['4bf92f3577b34da6a3ce929d0e0e4736', 'not-hex', '4BF92F3577B34DA6A3CE929D0E0E4736', hexId(1), hexId(2), 'short'];
    const slots = ids.map((id) => {
      expect(t.find(id)).toBe(-1);
      return t.add(id);
    });
    expect(new Set(slots).size).toBe(ids.length);
    expect(t.size).toBe(ids.length);
    ids.forEach((id, i) => {
      expect(t.find(id)).toBe(slots[i]);
      expect(t.id(slots[i]!)).toBe(id);
    });
    t.remove(slots[0]!);
    t.remove(slots[1]!);
    expect([t.find(ids[0]!), t.find(ids[1]!), t.size]).toEqual([-1, -1, ids.length - 2]);
    // The uppercase id is text, not the same trace as its lowercase twin.
    expect(t.find(ids[2]!)).toBe(slots[2]);
    const again = t.add(hexId(3));
    expect([slots[0], slots[1]]).toContain(again);
    expect(t.find(hexId(3))).toBe(again);
  });

  it('keeps the empty id (spans without a trace id, as from console logs) as text and removes it', () => {
    const t = new TraceSlots(16);
    const hex = t.add(hexId(7));
    const empty = t.add('');
    expect([t.find(''), t.id(empty), t.size]).toEqual([empty, '', 2]);
    // Before, '' was the mark of a hex slot, so this removal searched the hex table for ever.
    t.remove(empty);
    expect([t.find(''), t.find(hexId(7)), t.size]).toEqual([-1, hex, 1]);
    const again = t.add('');
    t.remove(hex);
    expect([t.find(''), t.find(hexId(7)), t.id(again)]).toEqual([again, -1, '']);
  });

  it('agrees with a Map through many adds and removes while it grows', () => {
    const t = new TraceSlots(16);
    const ref = new Map<string, number>();
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff) / 0x80000000;
    for (let i = 0; i < 20_000; i++) {
      const id = rnd() < 0.05 ? `text-${Math.floor(rnd() * 3000)}` : hexId(Math.floor(rnd() * 3000) * 0x9e3779b1);
      const have = ref.get(id);
      expect(t.find(id)).toBe(have ?? -1);
      if (have === undefined) ref.set(id, t.add(id));
      else if (rnd() < 0.7) {
        t.remove(have);
        ref.delete(id);
      }
    }
    expect(t.size).toBe(ref.size);
    for (const [id, s] of ref) expect(t.find(id)).toBe(s);
  });

  it('draws new multipliers when ids collide into a long probe run, and still finds them all', () => {
    // Multipliers of 1 at first: ids whose four words have the same sum share a hash.
    let draws = 0;
    const t = new TraceSlots(16, () => (draws++ < 4 ? 0 : (draws * 2654435761) >>> 1));
    const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(8, '0') + (1000 - i).toString(16).padStart(8, '0') + '0'.repeat(16));
    const slots = ids.map((id) => t.add(id));
    expect(t.reseeds).toBeGreaterThan(0);
    ids.forEach((id, i) => expect(t.find(id)).toBe(slots[i]));
    for (let i = 0; i < ids.length; i += 2) t.remove(slots[i]!);
    ids.forEach((id, i) => expect(t.find(id)).toBe(i % 2 === 0 ? -1 : slots[i]));
  });
});
