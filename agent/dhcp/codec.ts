/**
 * DHCPv4 wire codec (RFC 2131/2132, RFC 3396 long options, option 52 overload).
 * Pure: bytes <-> DhcpMessage. Decoding throws only AgentError with code `DHCP_*` and
 * `details.offset` naming where the input went wrong.
 *
 * OWNER: codec helper. Signatures are the contract other modules code against.
 */
import type { DhcpMessage } from './message.ts';
import { AgentError } from '../errors.ts';

export interface EncodeOptions {
  /** pad the packet to at least this many bytes (BOOTP minimum 300; default 300) */
  minSize?: number;
  /** spill options into file/sname (option 52) when the options field would exceed this packet size */
  maxSize?: number;
}

export function decodeMessage(_bytes: Uint8Array): DhcpMessage {
  throw new AgentError('NOT_IMPLEMENTED', 'decodeMessage');
}

export function encodeMessage(_msg: DhcpMessage, _opts: EncodeOptions = {}): Uint8Array {
  throw new AgentError('NOT_IMPLEMENTED', 'encodeMessage');
}
