import { describe, expect, it } from 'vitest';
import { choosePackage, packageFromOptions } from '../../agent/leg/policy.ts';
import { cfg, enc, tx } from './helpers.ts';

const policy = cfg({
  policy: { options: ['82.6', '60', '77'], packages: { gold: 'pkg-gold', ArubaAP: 'pkg-ap', '0102': 'pkg-bin' }, defaultPackage: 'basic' },
}).policy;

describe('policy: option values → package', () => {
  it.each([
    ['first configured option that maps wins', { '82.6': enc('gold'), '60': enc('ArubaAP') }, { kind: 'package', package: 'pkg-gold', option: '82.6', value: 'gold' }],
    ['later option maps when the first is absent', { '60': enc('ArubaAP') }, { kind: 'package', package: 'pkg-ap', option: '60', value: 'ArubaAP' }],
    ['unmapped first, mapped second → mapped', { '82.6': enc('silver'), '77': new Uint8Array([1, 2]) }, { kind: 'package', package: 'pkg-bin', option: '77', value: '0102' }],
    ['present but unmapped → reported', { '60': enc('docsis3.0') }, { kind: 'unmapped', option: '60', value: 'docsis3.0' }],
    ['no package option → none', { '12': enc('host') }, { kind: 'none' }],
  ])('%s', (_n, opts, want) => {
    expect(packageFromOptions(tx({ opts }), policy)).toEqual(want);
  });

  it.each([
    ['package found', { kind: 'package', package: 'p', option: '60', value: 'v' } as const, undefined, 'basic', 'p'],
    ['nothing, unknown subscriber → default', { kind: 'none' } as const, undefined, 'basic', 'basic'],
    ['nothing, default disabled → no package', { kind: 'none' } as const, undefined, null, null],
    ['nothing, known subscriber keeps its package', { kind: 'none' } as const, { package: 'gold' }, 'basic', 'gold'],
    ['unmapped, unknown subscriber → default', { kind: 'unmapped', option: '60', value: 'x' } as const, undefined, 'basic', 'basic'],
  ])('%s', (_n, found, known, dflt, want) => {
    expect(choosePackage(found, known, dflt)).toBe(want);
  });
});
