/** Captured DHCP packets (agent/pcap) → engine calls. Shared by replay and live capture. */
import type { CaptureRecord } from '../../pcap/reader.ts';
import { dhcpFromRecord } from '../../pcap/dhcp.ts';
import type { LegEngine } from '../engine.ts';
import { fromDhcpMessage } from '../transaction.ts';

/** Feeds one capture record; returns false when it was not DHCP (other traffic is counted, not an error). */
export function feedRecord(engine: LegEngine, rec: CaptureRecord): boolean {
  const p = dhcpFromRecord(rec);
  const time = Math.floor(rec.time);
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
