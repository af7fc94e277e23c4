import { describe, expect, it } from 'vitest';
import { DHCP_RDR_TAG, dhcpRdrFromRecord, dhcpRdrToRecord, fromDhcpRdr, type DhcpRdr } from '../../agent/leg/rdr-dhcp.ts';
import { decodeRdr, encodeRdr, RdrType } from '../../agent/leg/rdr.ts';
import { encodeRelayAgent } from '../../agent/dhcp/relay-agent.ts';
import { decide } from '../../agent/leg/decide.ts';
import { MessageType } from '../../agent/dhcp/message.ts';
import { cfg, lease, MODEM, mapping, view } from './helpers.ts';
import { parseMac } from '../../agent/util/bytes.ts';

const ack: DhcpRdr = {
  cpeMac: 'aa:bb:cc:00:00:07',
  cmtsIp: '198.18.80.1',
  assignedIp: '198.18.81.7',
  releasedIp: '0.0.0.0',
  transactionId: 0xabcdef01,
  messageType: MessageType.ACK,
  options: [
    { code: 51, data: lease(3600) },
    { code: 82, data: encodeRelayAgent([{ code: 1, data: new TextEncoder().encode('cmts1/3') }, { code: 2, data: parseMac(MODEM) }]) },
    { code: 60, data: new TextEncoder().encode('docsis3.1') },
  ],
  endTime: 1_764_000_000,
};

describe('DHCP sniffer RDR (tag 0xF0F0F042)', () => {
  it('round-trips through the RDR codec with 23 positional fields', () => {
    const wire = encodeRdr(dhcpRdrToRecord(ack));
    const r = decodeRdr(wire);
    expect(r.tag).toBe(DHCP_RDR_TAG);
    expect(r.fields).toHaveLength(23);
    expect(dhcpRdrFromRecord(r)).toEqual(ack);
  });

  it('normalizes to a transaction: options by selector, option 82 sub-options, end_time as the clock', () => {
    const t = fromDhcpRdr(ack, 0);
    expect(t).toMatchObject({ time: 1_764_000_000_000, messageType: 5, xid: 0xabcdef01, chaddr: 'aa:bb:cc:00:00:07', yiaddr: '198.18.81.7', renewing: undefined, leaseSeconds: 3600 });
    expect(new TextDecoder().decode(t.options.get('82.1'))).toBe('cmts1/3');
    expect(decide(t, view(), cfg({ cable: true }))).toEqual([expect.objectContaining({ kind: 'logon', subscriber: MODEM, ip: '198.18.81.7', transaction: 'ack' })]);
  });

  it('an RDR ACK of an IP the subscriber holds is an extension', () => {
    const t = fromDhcpRdr(ack, 0);
    const v = view([mapping({ ip: '198.18.81.7', subscriber: MODEM, chaddr: 'aa:bb:cc:00:00:07', xid: 1 })]);
    expect(decide(t, v, cfg({ cable: true }))[0]).toMatchObject({ kind: 'extend' });
  });

  it('a RELEASE RDR names the released IP', () => {
    const t = fromDhcpRdr({ ...ack, messageType: MessageType.RELEASE, assignedIp: '0.0.0.0', releasedIp: '198.18.81.7', options: [] }, 5);
    expect(t.releasedIp).toBe('198.18.81.7');
    expect(t.time).toBe(1_764_000_000_000);
  });

  it('accepts cpe_mac as text and falls back to `now` without end_time', () => {
    const r = dhcpRdrToRecord({ ...ack, endTime: 0 });
    r.fields[0] = { type: RdrType.STRING, value: new TextEncoder().encode('AA-BB-CC-00-00-07') };
    const d = dhcpRdrFromRecord(decodeRdr(encodeRdr(r)));
    expect(d.cpeMac).toBe('aa:bb:cc:00:00:07');
    expect(fromDhcpRdr(d, 42).time).toBe(42);
  });

  it.each([
    ['another tag', (r: ReturnType<typeof dhcpRdrToRecord>) => ({ ...r, tag: 1 }), 'RDR_NOT_DHCP'],
    ['too few fields', (r: ReturnType<typeof dhcpRdrToRecord>) => ({ ...r, fields: r.fields.slice(0, 10) }), 'RDR_DHCP_FIELD'],
    ['a string where an IP belongs', (r: ReturnType<typeof dhcpRdrToRecord>) => ({ ...r, fields: r.fields.map((f, i) => (i === 2 ? { type: RdrType.STRING, value: new Uint8Array(4) } : f)) }), 'RDR_DHCP_FIELD'],
    ['a cpe_mac that is no MAC', (r: ReturnType<typeof dhcpRdrToRecord>) => ({ ...r, fields: r.fields.map((f, i) => (i === 0 ? { type: RdrType.STRING, value: new Uint8Array(3) } : f)) }), 'RDR_DHCP_FIELD'],
  ])('rejects %s with a typed error', (_n, mutate, code) => {
    expect(() => dhcpRdrFromRecord(mutate(dhcpRdrToRecord(ack)))).toThrow(expect.objectContaining({ code }));
  });
});
