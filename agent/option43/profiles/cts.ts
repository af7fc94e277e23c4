/**
 * Connection Technology Systems fiber CPE layout (seed 000, "DHCP vendor options applied to
 * a triple-play ISP for automatic CPE software upgrade", table 1 step 4).
 */
import type { Option43Profile } from '../profile.ts';

export const CTS_PROFILE: Option43Profile = Object.freeze({
  name: 'cts',
  description: 'CTS fiber CPE automatic software upgrade (protocol, server, login, image + MD5, config + MD5, flags)',
  subOptions: [
    { code: 1, field: 'protocol', type: 'enum-u8', isc: 'protocol', values: { 0: 'tftp', 1: 'ftp' } },
    { code: 2, field: 'server', type: 'ipv4', isc: 'server' },
    { code: 3, field: 'user', type: 'text', isc: 'user' },
    { code: 4, field: 'password', type: 'text', isc: 'password', secret: true },
    { code: 5, field: 'softwareFile', type: 'text', isc: 'software-file' },
    { code: 6, field: 'softwareMd5', type: 'md5', isc: 'software-md5' },
    { code: 7, field: 'configFile', type: 'text', isc: 'config-file' },
    { code: 8, field: 'configMd5', type: 'md5', isc: 'config-md5' },
    { code: 9, field: 'flags', type: 'u16-flags', isc: 'flags', bits: [{ bit: 0, field: 'urgent' }] },
  ],
} as const);
