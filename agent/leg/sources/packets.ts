/** Captured DHCP packets (agent/pcap) → engine calls. Shared by replay and live capture. */
import type { CaptureRecord } from '../../pcap/reader.ts';
import { dhcpFromRecord, isDhcpPort } from '../../pcap/dhcp.ts';
import { udpSpan } from '../../pcap/frames.ts';
import { decodeMessage, peekMessageType, type DecodeOptions } from '../../dhcp/codec.ts';
import { ipv4ToNumber } from '../../util/bytes.ts';
import type { LegEngine } from '../engine.ts';
import { fromDhcpMessage, fromPayload, ignoredTransaction, isLegMessageType } from '../transaction.ts';

const LENIENT: DecodeOptions = { lenientEnd: true };
const STRICT: DecodeOptions = {};

function u32At(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** Feeds one capture record; returns false when it was not DHCP (other traffic is counted, not an error). */
export function feedRecord(engine: LegEngine, rec: CaptureRecord): boolean {
  const time = Math.floor(rec.time);
  const u = udpSpan(rec.linkType, rec.data);
  if (!u || !(isDhcpPort(u.srcPort) || isDhcpPort(u.dstPort))) {
    engine.store.count('skipped.non-dhcp');
    return false;
  }
  if (!u.truncated) {
    // Most of the traffic (DISCOVER, OFFER, REQUEST …) is only counted: its type is read in
    // place; ACK, RELEASE and DECLINE are read from the wire (the full decode only for
    // overload or split options). A payload that would not decode takes the path below,
    // for its error.
    const payload = rec.data.subarray(u.start, u.end);
    let type = peekMessageType(payload);
    // The LEG reads other parties' traffic: options that run to the end of the packet without
    // the end option are taken (tshark and clients accept such ACKs), and counted.
    const lenient = type === undefined && (type = peekMessageType(payload, LENIENT)) !== undefined;
    if (type !== undefined) {
      if (lenient) engine.store.count('lenient.no-end');
      if (!isLegMessageType(type)) engine.process(ignoredTransaction(payload, type, time));
      else {
        const tx = fromPayload(payload, type, time, engine.optionFilter, lenient) ?? fromDhcpMessage(decodeMessage(payload, lenient ? LENIENT : STRICT), time);
        // the IP header's addresses: which server answered, to whom a RELEASE was sent (trust)
        tx.srcIp = u32At(rec.data, u.ip + 12);
        tx.dstIp = u32At(rec.data, u.ip + 16);
        engine.process(tx);
      }
      return true;
    }
  }
  const p = dhcpFromRecord(rec);
  if (!p) {
    engine.store.count('skipped.non-dhcp');
    return false;
  }
  // A payload cut short (snaplen) may still parse, but the options it lost (82, 51 …) would
  // change the decision: never act on a partial message.
  if (p.truncated) {
    engine.malformed('truncated', p.error ? p.error.code : 'payload cut short', time);
    return true;
  }
  if (p.error || !p.message) {
    engine.malformed('dhcp', p.error ? `${p.error.code}: ${p.error.message}` : 'no message', time);
    return true;
  }
  const tx = fromDhcpMessage(p.message, time);
  tx.srcIp = ipv4ToNumber(p.srcIp);
  tx.dstIp = ipv4ToNumber(p.dstIp);
  engine.process(tx);
  return true;
}
