/**
 * Real tools as peers for the pcap reader: tshark reads the captures our writer produces and
 * must see the same packets; editcap converts the shared captures to pcapng / nanosecond
 * pcap and we must read the same packets back; tcpdump streams a capture to stdout
 * (`-w -`) and the streaming parser must yield what the file reader yields.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeLab, capturePath } from '../helpers/prereq.ts';
import { CaptureStream, readCapture, type CaptureRecord } from '../../agent/pcap/reader.ts';
import { dhcpPackets, type DhcpPacket } from '../../agent/pcap/dhcp.ts';
import { writePcap, writePcapng, type FrameIn } from '../../agent/pcap/writer.ts';
import { LinkType } from '../../agent/pcap/frames.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { CAPTURES } from '../dhcp/captures.ts';
import { dhcpMessage, ethernet, ipUdp, sll, sll2 } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'pcap-lab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  frame: number;
  epoch: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  xid: number | undefined;
}

function tsharkRows(file: string): Row[] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-Y', 'udp.port==67 || udp.port==68', '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'dhcp.id', '-e', 'dhcp.cookie'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [frame, epoch, src, dst, sport, dport, xid, cookie] = l.split('\t');
      // we refuse a message with a wrong magic cookie as a whole (tshark flags it malformed)
      const ok = xid && cookie === '99.130.83.99';
      return { frame: Number(frame), epoch: Number(epoch), src: src ?? '', dst: dst ?? '', sport: Number(sport), dport: Number(dport), xid: ok ? Number(xid) : undefined };
    });
}

function ourRows(records: CaptureRecord[]): Row[] {
  return [...dhcpPackets(records)].map((p: DhcpPacket) => ({
    frame: p.frame,
    epoch: p.time / 1000,
    src: p.srcIp,
    dst: p.dstIp,
    sport: p.srcPort,
    dport: p.dstPort,
    xid: p.message?.xid,
  }));
}

function sameRows(ours: Row[], theirs: Row[]): void {
  expect(ours.length).toBe(theirs.length);
  expect(ours.length).toBeGreaterThan(0);
  ours.forEach((o, i) => {
    const t = theirs[i] as Row;
    expect({ ...o, epoch: 0 }).toEqual({ ...t, epoch: 0 });
    expect(Math.abs(o.epoch - t.epoch)).toBeLessThan(1e-6);
  });
}

const T0 = Date.UTC(2026, 10, 23, 18, 30, 0) + 0.123456;
const payload = (xid: number): Uint8Array => ipUdp(encodeMessage(dhcpMessage(xid)), { src: [198, 18, 7, 1], dst: [198, 18, 7, 2] });

describeLab('pcap reader against tshark, editcap and tcpdump', ['tshark', 'editcap', 'tcpdump'], () => {
  const synthetic: [string, Uint8Array][] = [
    ['pcap LE µs Ethernet', writePcap(LinkType.ETHERNET, [1, 2, 3].map((i) => ({ time: T0 + i, data: ethernet(payload(i)) })))],
    ['pcap BE ns QinQ', writePcap(LinkType.ETHERNET, [1, 2].map((i) => ({ time: T0 + i, data: ethernet(payload(i), [10, 20], [0x88a8, 0x8100]) })), { littleEndian: false, nanos: true })],
    ['pcap Linux cooked v1', writePcap(LinkType.LINUX_SLL, [{ time: T0, data: sll(payload(5)) }])],
    ['pcap Linux cooked v2', writePcap(LinkType.LINUX_SLL2, [{ time: T0, data: sll2(payload(6)) }])],
    ['pcap raw IPv4', writePcap(LinkType.RAW, [{ time: T0, data: payload(7) }])],
    [
      'pcapng BE ns, several interfaces',
      writePcapng(
        [
          { time: T0, data: ethernet(payload(8)), linkType: LinkType.ETHERNET },
          { time: T0 + 1, data: sll2(payload(9)), linkType: LinkType.LINUX_SLL2 },
          { time: T0 + 2, data: sll(payload(10)), linkType: LinkType.LINUX_SLL },
        ] satisfies FrameIn[],
        { littleEndian: false, tsresol: 9 },
      ),
    ],
  ];
  for (const [name, bytes] of synthetic) {
    it(`tshark reads our ${name} file as we do`, () => {
      const file = join(dir, `${name.replace(/\W+/g, '_')}.cap`);
      writeFileSync(file, bytes);
      sameRows(ourRows(readCapture(bytes).records), tsharkRows(file));
    });
  }

  for (const name of CAPTURES) {
    for (const format of ['pcapng', 'nsecpcap'] as const) {
      it(`${name} converted by editcap -F ${format} reads the same`, () => {
        const out = join(dir, `${name}.${format}`);
        execFileSync('editcap', ['-F', format, capturePath(name), out], { stdio: 'ignore' });
        const converted = new Uint8Array(readFileSync(out));
        const r = readCapture(converted);
        expect(r.format).toBe(format === 'pcapng' ? 'pcapng' : 'pcap');
        sameRows(ourRows(r.records), tsharkRows(capturePath(name)));
      });
    }
  }

  it('tcpdump -r FILE -w - streamed through CaptureStream gives the file reader’s packets', async () => {
    const name = 'tcpdump_dhcp-rfc4388.pcap';
    const child = spawn('tcpdump', ['-r', capturePath(name), '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const stream = new CaptureStream();
    const records: CaptureRecord[] = [];
    let chunks = 0;
    for await (const chunk of child.stdout) {
      chunks++;
      // feed in small pieces too, so records straddle pushes
      const b = new Uint8Array(chunk as Buffer);
      for (let o = 0; o < b.length; o += 97) records.push(...stream.push(b.subarray(o, o + 97)));
    }
    stream.end();
    expect(chunks).toBeGreaterThan(0);
    expect(stream.stats.garbled).toBe(0);
    sameRows(ourRows(records), tsharkRows(capturePath(name)));
  });
});
