import { describe, expect, it } from 'vitest';
import { decodeOption43ForClass } from '../../agent/option43/index.ts';
import { allProfiles, profileEntryForClass, profileForClass, type ProfileEntry } from '../../agent/option43/registry.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import type { Option43Profile } from '../../agent/option43/profile.ts';
import { decodeOption43 } from '../../agent/option43/codec.ts';
import { fromHex } from '../../agent/util/bytes.ts';

describe('vendor class → profile registry', () => {
  it('FS-0900E is domestic, ESH-3105 business, both CTS; anything else falls back to CTS', () => {
    expect(profileEntryForClass('FS-0900E')?.segment).toBe('domestic');
    expect(profileEntryForClass('esh-3105')?.segment).toBe('business');
    expect(profileEntryForClass('FS-0900E v2.1')?.segment).toBe('domestic');
    expect(profileEntryForClass('udhcp 1.36')).toBeUndefined();
    expect(profileForClass('udhcp 1.36')).toBe(CTS_PROFILE);
    expect(allProfiles()).toEqual([CTS_PROFILE]);
  });
  it('decodeOption43ForClass uses the registered profile', () => {
    expect(decodeOption43ForClass('FS-0900E', fromHex('010101 0204c6120002'))).toEqual({ protocol: 'ftp', server: '198.18.0.2', unknown: [] });
  });
  it('a new vendor is data only: a profile + a registry entry, decoded by the same code', () => {
    const other: Option43Profile = {
      name: 'acme',
      description: 'test vendor with a different layout',
      subOptions: [
        { code: 10, field: 'server', type: 'ipv4', isc: 'tftp-server' },
        { code: 11, field: 'softwareFile', type: 'text', isc: 'image' },
        { code: 12, field: 'softwareMd5', type: 'md5', isc: 'image-md5' },
      ],
    };
    const registry: ProfileEntry[] = [{ vendorClass: 'ACME-1', segment: 'business', profile: other }];
    const data = fromHex('0a04c6120005 0b03612e62 0c10d41d8cd98f00b204e9800998ecf8427e 0101ff');
    expect(decodeOption43(profileForClass('ACME-1 rev B', registry), data)).toEqual({
      server: '198.18.0.5',
      softwareFile: 'a.b',
      softwareMd5: 'd41d8cd98f00b204e9800998ecf8427e',
      unknown: [{ code: 1, hex: 'ff' }],
    });
  });
});
