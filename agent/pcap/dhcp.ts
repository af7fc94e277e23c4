/**
 * DHCP messages out of captured records (pure): UDP with port 67 or 68 at either end is
 * decoded with the DHCP codec. A payload that does not decode yields a packet with `error`
 * (the codec's typed AgentError) instead of `message`, so a dump or the LEG carries on.
 */
import type { DhcpMessage } from '../dhcp/message.ts';
import type { CaptureRecord } from './reader.ts';
import { decodeMessage } from '../dhcp/codec.ts';
import { AgentError } from '../errors.ts';
import { udpFromFrame } from './frames.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export interface DhcpPacket {
  /** 1-based record number in the capture */
  frame: number;
  /** ms since the epoch, fractional */
  time: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  message?: DhcpMessage;
  error?: AgentError;
  /** set when the UDP payload was cut short (snaplen, or a first IP fragment) */
  truncated?: true;
}

export function isDhcpPort(p: number): boolean {
  return p === DHCP_SERVER_PORT || p === DHCP_CLIENT_PORT;
}

/** The DHCP packet in one record, or undefined when the record is not DHCP over UDP/IPv4. */
export function dhcpFromRecord(rec: CaptureRecord): DhcpPacket | undefined {
  const udp = udpFromFrame(rec.linkType, rec.data);
  if (!udp || !(isDhcpPort(udp.srcPort) || isDhcpPort(udp.dstPort))) return undefined;
  const p: DhcpPacket = { frame: rec.frame, time: rec.time, srcIp: udp.srcIp, dstIp: udp.dstIp, srcPort: udp.srcPort, dstPort: udp.dstPort };
  if (udp.truncated) p.truncated = true;
  try {
    p.message = decodeMessage(udp.payload);
  } catch (e) {
    p.error = e instanceof AgentError ? e : new AgentError('DHCP_DECODE_FAILED', e instanceof Error ? e.message : String(e), { offset: 0 });
  }
  return p;
}

export function* dhcpPackets(records: Iterable<CaptureRecord>): Generator<DhcpPacket> {
  for (const r of records) {
    const p = dhcpFromRecord(r);
    if (p) yield p;
  }
}
