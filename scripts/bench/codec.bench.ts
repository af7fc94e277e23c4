/**
 * DHCP codec throughput: decode+encode of every DHCP packet in the shared third-party
 * captures, ours vs the npm `dhcp` package's parser/formatter (lib/protocol.js parse/format),
 * plus decode-only rates (the LEG decodes every ACK). Goals are reported, not asserted.
 * Run: node scripts/bench/codec.bench.ts   (or `make bench`)
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { messageType } from '../../agent/dhcp/options.ts';
import { readCapture } from '../../agent/pcap/reader.ts';
import { udpFromFrame } from '../../agent/pcap/frames.ts';

interface NpmDhcpProtocol {
  parse(buf: Buffer): Record<string, unknown>;
  format(data: Record<string, unknown>): { _data: Buffer; _w: number };
}
const require = createRequire(import.meta.url);
const npm = require('dhcp/lib/protocol.js') as NpmDhcpProtocol;

const CAPTURES = ['zeek_dhcp.pcap', 'sv_dhcp-eve-extended.pcap', 'zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap', 'tcpdump_dhcp-rfc4388.pcap'];
const shared = new URL('../../../shared/captures/', import.meta.url);

const all: Buffer[] = [];
for (const name of CAPTURES) {
  for (const r of readCapture(new Uint8Array(readFileSync(new URL(name, shared)))).records) {
    const u = udpFromFrame(r.linkType, r.data);
    if (u && (u.srcPort === 67 || u.srcPort === 68 || u.dstPort === 67 || u.dstPort === 68)) all.push(Buffer.from(u.payload));
  }
}

// npm dhcp logs every option it does not know through console.error; silence it while it runs.
const quiet = <T,>(f: () => T): T => {
  const saved = console.error;
  console.error = () => {};
  try {
    return f();
  } finally {
    console.error = saved;
  }
};

// Compare on the packets both implementations handle (ours refuses the two with a bad magic cookie).
const packets = all.filter((p) => {
  try {
    decodeMessage(p);
    quiet(() => npm.format(npm.parse(p)));
    return true;
  } catch {
    return false;
  }
});
const acks = packets.filter((p) => messageType(decodeMessage(p)) === 5);

function timed(set: Buffer[], fn: (b: Buffer) => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < set.length; i++) fn(set[i] as Buffer);
    n += set.length;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/**
 * Packets/s of ours and theirs, measured in alternating 250 ms rounds (the machine is
 * shared, so load shifts during a run); each side reports its best round.
 */
function compare(set: Buffer[], ours: (b: Buffer) => void, theirs: (b: Buffer) => void, rounds = 8): [number, number] {
  for (let i = 0; i < 3000; i++) {
    ours(set[i % set.length] as Buffer);
    quiet(() => theirs(set[i % set.length] as Buffer));
  }
  let a = 0;
  let b = 0;
  for (let r = 0; r < rounds; r++) {
    a = Math.max(a, timed(set, ours, 250));
    b = Math.max(b, quiet(() => timed(set, theirs, 250)));
  }
  return [a, b];
}

let sink = 0;
const ourRoundTrip = (b: Buffer): void => {
  sink += encodeMessage(decodeMessage(b)).length;
};
const npmRoundTrip = (b: Buffer): void => {
  sink += npm.format(npm.parse(b))._w;
};
const ourDecode = (b: Buffer): void => {
  sink += decodeMessage(b).options.length;
};
const npmDecode = (b: Buffer): void => {
  sink += (npm.parse(b)['xid'] as number) & 1;
};

const rows: [string, number, number, string][] = [];
const rt = compare(packets, ourRoundTrip, npmRoundTrip);
rows.push(['decode+encode, all packets', rt[0], rt[1], '>= 3x npm dhcp']);
const dec = compare(packets, ourDecode, npmDecode);
rows.push(['decode only, all packets', dec[0], dec[1], '-']);
const ack = compare(acks, ourDecode, npmDecode);
rows.push(['decode only, ACKs (LEG path)', ack[0], ack[1], '>= 200,000/s ours']);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12);
process.stdout.write(`DHCP codec (best of 8 alternating 250 ms rounds): ${packets.length} packets from ${CAPTURES.length} third-party captures (${all.length - packets.length} skipped: not decodable by both), ${acks.length} ACKs; node ${process.version}\n\n`);
process.stdout.write(`${'case'.padEnd(30)} ${'ours pkt/s'.padStart(12)} ${'npm dhcp'.padStart(12)} ${'ratio'.padStart(7)}  goal\n`);
for (const [name, ours, theirs, goal] of rows) {
  const met = goal.startsWith('>= 3x') ? (ours / theirs >= 3 ? 'met' : 'NOT met') : goal.startsWith('>= 200') ? (ours >= 200_000 ? 'met' : 'NOT met') : '';
  process.stdout.write(`${name.padEnd(30)} ${fmt(ours)} ${fmt(theirs)} ${(ours / theirs).toFixed(1).padStart(6)}x  ${goal} ${met}\n`);
}
if (sink === -1) process.stdout.write('\n');
