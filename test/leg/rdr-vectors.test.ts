/**
 * RDRv1 test vectors assembled by hand, byte by byte, from the format as two independent
 * open-source collectors read it (issue 12 point 3) — not from agent/leg/rdr.ts:
 *
 * - RDR::Collector (CPAN, A. Kennedy): after the first byte ("proc"), 4 length bytes it reads
 *   as characters ('0'-'9'), then `unpack("CCSSH8H8C")`: src, dst, src_port, dst_port,
 *   flow id, RDR tag (4 bytes, as a big-endian number), field count; then per field
 *   `unpack("CN")`: a type byte and a 4-byte big-endian length, then the value. Field types
 *   11 INT8, 12 INT16, 13 INT32, 14 UINT8, 15 UINT16, 16 UINT32, 21 FLOAT, 31 BOOLEAN,
 *   41 STRING; uint32 values big-endian (`N`). RDR tag 4042321986 = "DHCP", with the
 *   fields cpe_mac, cmts_ip, assigned_ip, released_ip, transaction_id, message_type,
 *   8 option types, 8 option values, end_time (23).
 * - module::rdr (M. Dinic, 2013): "TPID (1 octet), packet length (4 ASCII-encoded digits)",
 *   at most 9999, counting the 15-byte header and the fields; header `C2n2N2C`: src and
 *   dst (the IPs' last octets), ports (16-bit big-endian), flow context id and tag (32-bit
 *   big-endian), number of fields; field TLVs `CN`.
 *
 * Both say the length is four ASCII digits: our first decoder read it as a binary uint32 and
 * passed its own tests because only our encoder fed it. The vectors below caught that.
 */
import { describe, expect, it } from 'vitest';
import { decodeRdr, encodeRdr, RdrStream } from '../../agent/leg/rdr.ts';
import { dhcpRdrFromRecord, fromDhcpRdr } from '../../agent/leg/rdr-dhcp.ts';
import { LegEngine } from '../../agent/leg/engine.ts';
import { LegStore } from '../../agent/leg/store.ts';
import { memorySink } from '../../agent/leg/events.ts';
import { cfg } from './helpers.ts';

/** "01 0a ff  # comment" lines → bytes (everything after # is a comment) */
function hex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex: ${digits}`);
  return new Uint8Array(digits.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}

// A DHCP sniffer RDR: an ACK giving 198.18.81.10 to CPE 00:1a:2b:3c:4d:5e for 3600 s, relayed
// with option 82 remote-ID 00:11:22:33:44:55 (the cable modem).
const DHCP_ACK = hex(`
  01                # ppc_num (traffic processor 1)
  30 31 37 37       # payload_size "0177" in ASCII digits: 15 header + 162 field bytes
  0a                # src: last octet of the SCE's address
  14                # dst: last octet of the collector's address
  80 e8             # src_port 33000
  81 56             # dst_port 33110
  00 00 00 2a       # flow_context_id 42
  f0 f0 f0 42       # tag 4042321986: DHCP RDR
  17                # 23 fields
  29 00 00 00 06  00 1a 2b 3c 4d 5e   # 0 cpe_mac: STRING(41), 6 bytes                    (11)
  10 00 00 00 04  c6 12 50 01         # 1 cmts_ip: UINT32(16) 198.18.80.1                  (9)
  10 00 00 00 04  c6 12 51 0a         # 2 assigned_ip: UINT32 198.18.81.10                 (9)
  10 00 00 00 04  00 00 00 00         # 3 released_ip: UINT32 0.0.0.0                      (9)
  10 00 00 00 04  12 34 56 78         # 4 transaction_id: UINT32 0x12345678                (9)
  0e 00 00 00 01  05                  # 5 message_type: UINT8(14) 5 = ACK                  (6)
  0e 00 00 00 01  33                  # 6 option_type_0: UINT8 51 (lease time)             (6)
  0e 00 00 00 01  52                  # 7 option_type_1: UINT8 82 (relay agent info)       (6)
  0e 00 00 00 01  00                  # 8..13 option_type_2..7: UINT8 0 (empty slots)   (6×6)
  0e 00 00 00 01  00
  0e 00 00 00 01  00
  0e 00 00 00 01  00
  0e 00 00 00 01  00
  0e 00 00 00 01  00
  29 00 00 00 04  00 00 0e 10         # 14 option_value_0: STRING, 3600 s                  (9)
  29 00 00 00 08  02 06 00 11 22 33 44 55   # 15 option_value_1: STRING, 82: sub 2 (remote-ID), 6 bytes (13)
  29 00 00 00 00                      # 16..21 option_value_2..7: STRING, empty         (6×5)
  29 00 00 00 00
  29 00 00 00 00
  29 00 00 00 00
  29 00 00 00 00
  29 00 00 00 00
  10 00 00 00 04  69 55 b9 00         # 22 end_time: UINT32 1767225600 = 2026-01-01T00:00:00Z (9)
`);

// Every field type once, with signed and fractional values (a made-up tag).
const TYPES = hex(`
  00                # ppc_num 0
  30 30 37 39       # payload_size "0079": 15 header + 64 field bytes
  01 02             # src 1, dst 2
  00 00 00 00       # ports 0, 0
  ff ff ff ff       # flow_context_id 4294967295
  00 00 21 08       # tag 8456
  09                # 9 fields
  0b 00 00 00 01  ff                  # INT8(11) -1                       (6)
  0c 00 00 00 02  ff fe               # INT16(12) -2                      (7)
  0d 00 00 00 04  80 00 00 00         # INT32(13) -2147483648             (9)
  0e 00 00 00 01  ff                  # UINT8(14) 255                     (6)
  0f 00 00 00 02  ff ff               # UINT16(15) 65535                  (7)
  10 00 00 00 04  ff ff ff ff         # UINT32(16) 4294967295             (9)
  15 00 00 00 04  be 80 00 00         # FLOAT(21) -0.25                   (9)
  1f 00 00 00 01  01                  # BOOLEAN(31) true                  (6)
  29 00 00 00 00                      # STRING(41) empty                  (5)
`);

describe('RDRv1 hand-assembled vectors', () => {
  it('the vectors add up (the comments’ byte counts)', () => {
    expect(DHCP_ACK.length).toBe(5 + 177);
    expect(DHCP_ACK.length - 5 - 15).toBe(11 + 4 * 9 + 6 + 8 * 6 + 9 + 13 + 6 * 5 + 9);
    expect(TYPES.length - 5 - 15).toBe(6 + 7 + 9 + 6 + 7 + 9 + 9 + 6 + 5);
    expect(TYPES.length).toBe(5 + 79);
  });

  it('the DHCP RDR decodes to its header and 23 fields', () => {
    const r = decodeRdr(DHCP_ACK);
    expect({ ...r, fields: r.fields.length }).toEqual({ ppc: 1, src: 10, dst: 20, srcPort: 33000, dstPort: 33110, flowContextId: 42, tag: 4042321986, fields: 23 });
    const d = dhcpRdrFromRecord(r);
    expect(d).toEqual({
      cpeMac: '00:1a:2b:3c:4d:5e',
      cmtsIp: '198.18.80.1',
      assignedIp: '198.18.81.10',
      releasedIp: '0.0.0.0',
      transactionId: 0x12345678,
      messageType: 5,
      options: [
        { code: 51, data: new Uint8Array([0, 0, 0x0e, 0x10]) },
        { code: 82, data: new Uint8Array([2, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55]) },
      ],
      endTime: 1_767_225_600,
    });
  });

  it('every field type decodes to its value', () => {
    const r = decodeRdr(TYPES);
    expect(r.tag).toBe(8456);
    expect(r.flowContextId).toBe(0xffffffff);
    expect(r.fields.map((f) => [f.type, f.value])).toEqual([
      [11, -1],
      [12, -2],
      [13, -2147483648],
      [14, 255],
      [15, 65535],
      [16, 4294967295],
      [21, -0.25],
      [31, true],
      [41, new Uint8Array(0)],
    ]);
  });

  it('our encoder writes exactly these bytes back', () => {
    expect(Buffer.from(encodeRdr(decodeRdr(DHCP_ACK))).toString('hex')).toBe(Buffer.from(DHCP_ACK).toString('hex'));
    expect(Buffer.from(encodeRdr(decodeRdr(TYPES))).toString('hex')).toBe(Buffer.from(TYPES).toString('hex'));
  });

  it('a stream of both, cut anywhere, gives both records; the DHCP one logs the CPE on for the modem', () => {
    const all = new Uint8Array([...DHCP_ACK, ...TYPES, ...DHCP_ACK]);
    for (const cut of [1, 3, 5, 20, 181, 182, 183, 200, 266, 267]) {
      const s = new RdrStream();
      const got = [...s.push(all.subarray(0, cut)).records, ...s.push(all.subarray(cut)).records];
      expect(got.map((r) => r.tag)).toEqual([4042321986, 8456, 4042321986]);
    }
    const sink = memorySink();
    const engine = new LegEngine(cfg({ cable: true }), new LegStore(), sink);
    engine.process(fromDhcpRdr(dhcpRdrFromRecord(decodeRdr(DHCP_ACK)), 0));
    engine.flush();
    expect(sink.events.map((e) => [e.event, e.subscriber, e.ip, e.leaseSeconds, e.time, e.chaddr, e.xid])).toEqual([
      ['logon', '00:11:22:33:44:55', '198.18.81.10', 3600, '2026-01-01T00:00:00.000Z', '00:1a:2b:3c:4d:5e', '0x12345678'],
    ]);
    engine.store.close();
  });

  it('a binary length (the old misreading) is framing lost, not a record', () => {
    const binary = DHCP_ACK.slice();
    binary.set([0x00, 0x00, 0x00, 0xb1], 1); // 177 as a big-endian uint32
    const res = new RdrStream().push(binary);
    expect(res.records).toEqual([]);
    expect(res.fatal?.code).toBe('RDR_BAD_LENGTH');
  });
});
