import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyTable, NO_KEY, ipKey, macKey } from '../../agent/leg/key-table.ts';

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
        fc.property(fc.array(fc.tuple(text, fc.nat()), { maxLength: 3000 }), fc.array(text, { maxLength: 200 }), (sets, probes) => {
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
