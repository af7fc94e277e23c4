/** Captured DHCP packets (agent/pcap) → engine calls. Shared by replay and live capture. */
import type { CaptureRecord } from '../../pcap/reader.ts';
import { dhcpFromRecord, isDhcpPort } from '../../pcap/dhcp.ts';
import { udpSpan } from '../../pcap/frames.ts';
import { decodeMessage, peekMessageType } from '../../dhcp/codec.ts';
import type { LegEngine } from '../engine.ts';
import { fromDhcpMessage, fromPayload, ignoredTransaction, isLegMessageType } from '../transaction.ts';

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
    const type = peekMessageType(payload);
    if (type !== undefined) {
      if (!isLegMessageType(type)) engine.process(ignoredTransaction(payload, type, time));
      else engine.process(fromPayload(payload, type, time, engine.optionFilter) ?? fromDhcpMessage(decodeMessage(payload), time));
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
  engine.process(fromDhcpMessage(p.message, time));
  return true;
}
