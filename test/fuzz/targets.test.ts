import { describe, expect, it } from 'vitest';
import { TARGETS } from './targets.ts';

// The `make fuzz` targets at a small count in every `make test` (millions: `make fuzz CASES=…`).
describe('fuzz targets (make fuzz) at 300 cases each', () => {
  it('covers the five codecs, each with a valid-header/magic variant beside random bytes', () => {
    const names = TARGETS.map((t) => t.name);
    for (const codec of ['dhcp', 'opt43', 'pcap', 'rdr', 'tftp']) expect(names.filter((n) => n.startsWith(`${codec}.`)).length).toBeGreaterThanOrEqual(2);
    expect(names).toEqual(expect.arrayContaining(['dhcp.valid-header', 'opt43.valid-tlvs', 'pcap.valid-magic', 'rdr.corrupted', 'tftp.valid-opcode']));
  });
  for (const t of TARGETS) {
    it(t.name, () => {
      const seed = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
      const r = t.run({ numRuns: 300, seed });
      expect(r.failed, `${t.name} seed ${r.seed} path ${r.path}\n${r.counterexample}\n${r.error}`).toBe(false);
      expect(r.numRuns).toBe(300);
    });
  }
});
