import type { DhcpdConfOptions } from '../../scripts/lab/dhcpd.ts';

export const CONF: DhcpdConfOptions = {
  subnet: '198.18.16',
  serverIp: '198.18.16.1',
  defaultRange: ['198.18.16.20', '198.18.16.49'],
  leaseSeconds: 20,
  classes: [
    {
      vendorClass: 'FS-0900E',
      range: ['198.18.16.100', '198.18.16.149'],
      offer: { protocol: 'tftp', server: '198.18.16.1', softwareFile: 'fs.bin', softwareMd5: 'd41d8cd98f00b204e9800998ecf8427e', flags: 1, urgent: true, unknown: [] },
    },
    {
      vendorClass: 'ESH-3105',
      range: ['198.18.16.150', '198.18.16.199'],
      offer: { protocol: 'ftp', server: '198.18.16.1', user: 'u', password: 'p"w', softwareFile: 'esh.img', unknown: [] },
    },
  ],
};
