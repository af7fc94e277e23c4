/** The shared third-party DHCP captures and their DHCP packets, read with our pcap reader. */
import { readFileSync } from 'node:fs';
import { capturePath } from '../helpers/prereq.ts';
import { readCapture } from '../../agent/pcap/reader.ts';
import { udpFromFrame } from '../../agent/pcap/frames.ts';

export const CAPTURES = [
  'zeek_dhcp.pcap',
  'sv_dhcp-eve-extended.pcap',
  'zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap',
  'tcpdump_dhcp-rfc4388.pcap',
] as const;

export interface CapturedPayload {
  file: string;
  frame: number;
  payload: Uint8Array;
}

export function captureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(capturePath(name)));
}

/** Every UDP payload to or from port 67/68 in the shared captures. */
export function dhcpPayloads(): CapturedPayload[] {
  const out: CapturedPayload[] = [];
  for (const file of CAPTURES) {
    for (const r of readCapture(captureBytes(file)).records) {
      const u = udpFromFrame(r.linkType, r.data);
      if (u && [67, 68].some((p) => p === u.srcPort || p === u.dstPort)) out.push({ file, frame: r.frame, payload: u.payload });
    }
  }
  return out;
}
