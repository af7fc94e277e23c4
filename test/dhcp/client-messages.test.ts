import { describe, expect, it } from 'vitest';
import { leaseFromAck, buildRelease, buildDecline } from '../../agent/dhcp/client-messages.ts';
import { MessageType, Opt } from '../../agent/dhcp/message.ts';
import { encodeOption43 } from '../../agent/option43/codec.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import { config, opt, reply, T0 } from './client-helpers.ts';

describe('reading an ACK into a lease', () => {
  const cfg = config({ vendorClass: 'ESH-3105' });

  it('decodes option 43 with the profile of the vendor class', () => {
    const offer = { protocol: 'ftp' as const, server: '198.18.16.1', user: 'cpe', password: 'pw', softwareFile: 'e.img', unknown: [] };
    const data = encodeOption43(offer, CTS_PROFILE);
    const r = leaseFromAck(cfg, reply(MessageType.ACK, { xid: 1, extra: [{ code: Opt.VENDOR_SPECIFIC, data }] }), T0);
    expect(r.ok && r.lease.option43).toMatchObject(offer);
    expect(r.ok && r.lease.option43Error).toBeUndefined();
  });

  it('a domain name is kept; a missing mask falls back to the classful prefix', () => {
    const msg = reply(MessageType.ACK, { xid: 1, extra: [{ code: Opt.DOMAIN_NAME, data: new Uint8Array(Buffer.from('isp.example\0')) }] });
    msg.options = msg.options.filter((o) => o.code !== Opt.SUBNET_MASK);
    const r = leaseFromAck(cfg, msg, T0);
    expect(r.ok && r.lease.domain).toBe('isp.example');
    expect(r.ok && r.lease.prefixLength).toBe(24);
  });

  const bad: Array<[string, Parameters<typeof reply>[1], RegExp]> = [
    ['no lease time', { xid: 1, lease: null }, /option 51/],
    ['lease time 0', { xid: 1, lease: 0 }, /lease time 0/],
    ['yiaddr 0.0.0.0', { xid: 1, yiaddr: '0.0.0.0' }, /yiaddr 0\.0\.0\.0/],
    ['loopback yiaddr', { xid: 1, yiaddr: '127.0.0.5' }, /unusable yiaddr/],
    ['multicast yiaddr', { xid: 1, yiaddr: '224.0.0.1' }, /unusable yiaddr/],
    ['non-contiguous mask', { xid: 1, mask: '255.0.255.0' }, /non-contiguous/],
    ['no server id and no fallback', { xid: 1, serverId: null }, /option 54/],
  ];
  for (const [name, o, reason] of bad) {
    it(`refuses an ACK with ${name}, saying why`, () => {
      const r = leaseFromAck(cfg, reply(MessageType.ACK, o), T0);
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(reason);
    });
  }
});

describe('DECLINE and RELEASE (RFC 2131 table 5)', () => {
  it('DECLINE: option 50 + 54, ciaddr 0, no parameter list or vendor class', () => {
    const m = buildDecline(config(), 7, '198.18.16.100', '198.18.16.1');
    expect(m.ciaddr).toBe('0.0.0.0');
    expect(opt(m, Opt.REQUESTED_IP)).toEqual([198, 18, 16, 100]);
    expect(opt(m, Opt.SERVER_ID)).toEqual([198, 18, 16, 1]);
    expect(opt(m, Opt.PARAMETER_LIST)).toBeUndefined();
    expect(opt(m, Opt.VENDOR_CLASS)).toBeUndefined();
  });

  it('RELEASE: ciaddr set, option 54, no option 50', () => {
    const m = buildRelease(config(), 7, '198.18.16.100', '198.18.16.1');
    expect(m.ciaddr).toBe('198.18.16.100');
    expect(opt(m, Opt.SERVER_ID)).toEqual([198, 18, 16, 1]);
    expect(opt(m, Opt.REQUESTED_IP)).toBeUndefined();
    expect(m.flags).toBe(0);
  });
});
