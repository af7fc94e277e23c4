import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyTable, NO_KEY, ipKey, macKey } from '../../agent/leg/key-table.ts';
import { mulberry32 } from '../../agent/util/prng.ts';

describe('ipKey / macKey: numbers only for the canonical text', () => {
  it.each([
    ['0.0.0.0', 0],
    ['1.2.3.4', 0x01020304],
    ['255.255.255.255', 0xffffffff],
    ['198.18.80.10', 0xc612500a],
    ['01.2.3.4', NO_KEY],
    ['1.2.3', NO_KEY],
    ['1.2.3.4.5', NO_KEY],
    ['1..3.4', NO_KEY],
    ['256.1.1.1', NO_KEY],
    ['1.2.3.4 ', NO_KEY],
    ['1.2.3.', NO_KEY],
    ['IP_1.2.3.4', NO_KEY],
    ['1000.1.1.1', NO_KEY],
  ])('ipKey(%j) = %d', (s, k) => expect(ipKey(s)).toBe(k));

  it.each([
    ['00:00:00:00:00:00', 0],
    ['aa:bb:cc:dd:ee:ff', 0xaabbccddeeff],
    ['02:0d:00:01:86:9f', 0x020d0001869f],
    ['AA:bb:cc:dd:ee:ff', NO_KEY],
    ['aa-bb-cc-dd-ee-ff', NO_KEY],
    ['aa:bb:cc:dd:ee', NO_KEY],
    ['aa:bb:cc:dd:ee:fg', NO_KEY],
    ['aa:bb:cc:dd:ee:ff:00', NO_KEY],
    ['subscriber-0001', NO_KEY],
  ])('macKey(%j) = %d', (s, k) => expect(macKey(s)).toBe(k));

  it('ipKey round-trips every address', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (v) => {
        expect(ipKey([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.'))).toBe(v);
      }),
    );
  });
});

describe('KeyTable behaves as a Map from text', () => {
  const text = fc.oneof(
    fc.tuple(fc.nat(255), fc.nat(3), fc.nat(300)).map(([a, b, c]) => `10.${a}.${b}.${c}`),
    fc.tuple(fc.nat(3), fc.nat(255)).map(([a, b]) => `02:00:00:0${a}:${b.toString(16).padStart(2, '0')}:00`),
    fc.string({ maxLength: 6 }),
  );
  for (const [name, keyOf] of [['ipKey', ipKey], ['macKey', macKey]] as const) {
    it(`with ${name}: same answers as a Map, across growth`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(text, fc.nat()), { maxLength: 3000, size: 'medium' }), fc.array(text, { maxLength: 200, size: 'medium' }), (sets, probes) => {
          const t = new KeyTable<{ v: number }>(keyOf, 2);
          const m = new Map<string, { v: number }>();
          for (const [k, v] of sets) {
            t.set(k, { v });
            m.set(k, { v });
          }
          expect(t.size).toBe(m.size);
          for (const k of [...probes, ...m.keys()]) expect(t.get(k)).toEqual(m.get(k));
          expect([...t.values()].map((x) => x.v).sort()).toEqual([...m.values()].map((x) => x.v).sort());
        }),
        { numRuns: 100 },
      );
    });
  }
});

describe('KeyTable with thousands of keys (the index grows from 4 slots to thousands)', () => {
  /** n keys from a seed: canonical IPs and MACs in clusters (renewal order), non-canonical text, repeats */
  function keys(seed: number, n: number): string[] {
    const r = mulberry32(seed);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = Math.floor(r() * 1_000_000);
      switch (Math.floor(r() * 6)) {
        case 0:
        case 1:
          out.push(`10.${(x >> 16) & 255}.${(x >> 8) & 255}.${x & 255}`);
          break;
        case 2:
          out.push(`02:00:${((x >> 16) & 255).toString(16).padStart(2, '0')}:${((x >> 8) & 255).toString(16).padStart(2, '0')}:${(x & 255).toString(16).padStart(2, '0')}:01`);
          break;
        case 3: // consecutive addresses: neighbouring keys, the probe chains' worst case
          out.push(`100.64.${(i >> 8) & 255}.${i & 255}`);
          break;
        case 4: // a repeat of an earlier key (an update, not a new entry)
          out.push(out.length > 0 ? (out[Math.floor(r() * out.length)] as string) : '1.1.1.1');
          break;
        default: // text with no canonical form: the Map beside the index
          out.push(`sub-${x % 5000}`);
      }
    }
    return out;
  }

  for (const [name, keyOf] of [['ipKey', ipKey], ['macKey', macKey]] as const) {
    it(`with ${name}: the same answers as a Map for 1,000–6,000 keys, and the index really grew`, () => {
      let maxSlots = 0;
      fc.assert(
        fc.property(fc.integer(), fc.integer({ min: 1000, max: 6000 }), (seed, n) => {
          const t = new KeyTable<{ v: number }>(keyOf, 2);
          const m = new Map<string, { v: number }>();
          const ks = keys(seed, n);
          // the same value objects in both: a lookup must return the very object the Map holds
          const wrong: string[] = [];
          for (const [i, k] of ks.entries()) {
            const v = { v: i };
            t.set(k, v);
            m.set(k, v);
            // probe while it grows: keys set so far, and some not set yet
            if (i % 97 === 0) for (const p of ks.slice(Math.max(0, i - 50), i + 50)) if (t.get(p) !== m.get(p)) wrong.push(`after ${i}: ${p}`);
          }
          for (const k of m.keys()) if (t.get(k) !== m.get(k)) wrong.push(`at the end: ${k}`);
          for (const k of keys(seed + 1, 300)) if (t.get(k) !== m.get(k)) wrong.push(`probe: ${k}`);
          expect(wrong.slice(0, 5)).toEqual([]);
          expect(t.size).toBe(m.size);
          expect([...t.values()].map((x) => x.v).sort((a, b) => a - b)).toEqual([...m.values()].map((x) => x.v).sort((a, b) => a - b));
          const canonical = [...m.keys()].filter((k) => keyOf(k) !== NO_KEY).length;
          const slots = (t as unknown as { slots: Float64Array }).slots.length / 2;
          expect(slots).toBeGreaterThanOrEqual((canonical * 4) / 3);
          maxSlots = Math.max(maxSlots, slots);
        }),
        { numRuns: 20 },
      );
      // coverage of the point of this test: growth far past 16 slots
      expect(maxSlots).toBeGreaterThan(1024);
    });
  }
});
