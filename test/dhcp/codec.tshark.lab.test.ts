/**
 * tshark is the oracle: every DHCP packet of the shared third-party captures, dissected by
 * Wireshark's DHCP dissector, must give the same field values as our pcap reader + codec.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { describeLab, capturePath } from '../helpers/prereq.ts';
import { readCapture } from '../../agent/pcap/reader.ts';
import { dhcpPackets, type DhcpPacket } from '../../agent/pcap/dhcp.ts';
import * as O from '../../agent/dhcp/options.ts';
import { macToString, toHex } from '../../agent/util/bytes.ts';
import { CAPTURES, captureBytes } from './captures.ts';

const FIELDS = [
  'frame.number',
  'dhcp.type',
  'dhcp.id',
  'dhcp.hw.mac_addr',
  'dhcp.ip.client',
  'dhcp.ip.your',
  'dhcp.ip.server',
  'dhcp.ip.relay',
  'dhcp.flags',
  'dhcp.secs',
  'dhcp.hops',
  'dhcp.cookie',
  'dhcp.option.type',
  'dhcp.option.dhcp',
  'dhcp.option.ip_address_lease_time',
  'dhcp.option.renewal_time_value',
  'dhcp.option.rebinding_time_value',
  'dhcp.option.dhcp_server_id',
  'dhcp.option.requested_ip_address',
  'dhcp.option.subnet_mask',
  'dhcp.option.router',
  'dhcp.option.domain_name_server',
  'dhcp.option.hostname',
  'dhcp.option.domain_name',
  'dhcp.option.vendor_class_id',
  'dhcp.option.request_list_item',
  'dhcp.option.agent_information_option.agent_circuit_id',
  'dhcp.option.agent_information_option.agent_remote_id',
  'dhcp.option.agent_information_option.subscriber_id',
  'ip.src',
  'ip.dst',
  'udp.srcport',
  'udp.dstport',
] as const;
type Field = (typeof FIELDS)[number];

function tshark(file: string): Map<number, Record<Field, string>> {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-Y', 'udp.port==67 || udp.port==68', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = new Map<number, Record<Field, string>>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const row = Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Record<Field, string>;
    rows.set(Number(row['frame.number']), row);
  }
  return rows;
}

const opt = <T,>(v: T | undefined, f: (x: T) => string): string => (v === undefined ? '' : f(v));
const hexOf = (s: string): string => s.replace(/:/g, '').toLowerCase();

function ours(p: DhcpPacket): Partial<Record<Field, string>> {
  const m = p.message;
  const head = { 'ip.src': p.srcIp, 'ip.dst': p.dstIp, 'udp.srcport': String(p.srcPort), 'udp.dstport': String(p.dstPort) };
  if (!m) return head;
  const ra = O.relayAgent(m);
  const cid = O.clientId(m);
  return {
    ...head,
    'dhcp.type': String(m.op),
    'dhcp.id': `0x${m.xid.toString(16).padStart(8, '0')}`,
    // tshark reports option 61 (type 1, 6 bytes) under the same field, after chaddr
    'dhcp.hw.mac_addr': [macToString(m.chaddr, m.hlen), ...(cid && cid.type === 1 && cid.id.length === 6 ? [macToString(cid.id)] : [])].join(','),
    'dhcp.ip.client': m.ciaddr,
    'dhcp.ip.your': m.yiaddr,
    'dhcp.ip.server': m.siaddr,
    'dhcp.ip.relay': m.giaddr,
    'dhcp.flags': `0x${m.flags.toString(16).padStart(4, '0')}`,
    'dhcp.secs': String(m.secs),
    'dhcp.hops': String(m.hops),
    'dhcp.option.type': m.options.map((o) => o.code).join(','),
    'dhcp.option.dhcp': opt(O.messageType(m), String),
    'dhcp.option.ip_address_lease_time': opt(O.leaseSeconds(m), String),
    'dhcp.option.renewal_time_value': opt(O.t1(m), String),
    'dhcp.option.rebinding_time_value': opt(O.t2(m), String),
    'dhcp.option.dhcp_server_id': opt(O.serverId(m), String),
    'dhcp.option.requested_ip_address': opt(O.requestedIp(m), String),
    'dhcp.option.subnet_mask': opt(O.subnetMask(m), String),
    'dhcp.option.router': opt(O.routers(m), (l) => l.join(',')),
    'dhcp.option.domain_name_server': opt(O.dns(m), (l) => l.join(',')),
    'dhcp.option.hostname': opt(O.hostname(m), String),
    'dhcp.option.domain_name': opt(O.domainName(m), String),
    'dhcp.option.vendor_class_id': opt(O.vendorClass(m), String),
    'dhcp.option.request_list_item': opt(O.parameterList(m), (l) => l.join(',')),
    'dhcp.option.agent_information_option.agent_circuit_id': opt(ra?.circuitId, toHex),
    'dhcp.option.agent_information_option.agent_remote_id': opt(ra?.remoteId, toHex),
    'dhcp.option.agent_information_option.subscriber_id': opt(ra?.subscriberId, (b) => Buffer.from(b).toString('latin1')),
  };
}

describeLab('DHCP codec vs tshark dissection of the shared captures', ['tshark'], () => {
  let compared = 0;
  let fieldsCompared = 0;
  for (const name of CAPTURES) {
    it(name, () => {
      const oracle = tshark(capturePath(name));
      const packets = [...dhcpPackets(readCapture(captureBytes(name)).records)];
      expect(packets.map((p) => p.frame)).toEqual([...oracle.keys()]);
      for (const p of packets) {
        const t = oracle.get(p.frame) as Record<Field, string>;
        const where = `${name} frame ${p.frame}`;
        compared++;
        if (!p.message) {
          // we refuse it: tshark must see a wrong cookie too (it flags the packet malformed)
          expect(p.error?.code, where).toBe('DHCP_BAD_COOKIE');
          expect(t['dhcp.cookie'], where).not.toBe('99.130.83.99');
          continue;
        }
        expect(t['dhcp.cookie'], where).toBe('99.130.83.99');
        const o = ours(p);
        // tshark lists END (shown as type 0/255) and pads among option types; we never keep them
        const tTypes = t['dhcp.option.type']
          .split(',')
          .filter((x) => x !== '' && x !== '0' && x !== '255')
          .join(',');
        for (const f of FIELDS) {
          if (f === 'frame.number' || f === 'dhcp.cookie') continue;
          let want = f === 'dhcp.option.type' ? tTypes : t[f];
          let got = o[f] ?? '';
          if (f === 'dhcp.hw.mac_addr' && want === '') got = ''; // tshark shows it only for Ethernet/6
          if (f.endsWith('circuit_id') || f.endsWith('remote_id')) {
            want = hexOf(want);
            got = hexOf(got);
          }
          expect(got, `${where} ${f}`).toBe(want);
          fieldsCompared++;
        }
      }
    });
  }
  it('compared every DHCP packet', () => {
    expect(compared).toBe(48);
    expect(fieldsCompared).toBeGreaterThan(48 * 20);
  });
});
