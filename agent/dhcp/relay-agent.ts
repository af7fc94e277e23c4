/**
 * Option 82, Relay Agent Information (RFC 3046): a list of sub-options. Sub-options 1
 * (circuit-ID), 2 (remote-ID) and 6 (subscriber-ID, RFC 3993) are named; every other
 * sub-option (5 link selection, 9 vendor-specific, 151/152 …) is kept raw, in order.
 * Pure. Malformed data throws AgentError DHCP_BAD_OPTION with details.code 82 and offset.
 */
import { AgentError } from '../errors.ts';
import { encodeTlv } from '../util/tlv.ts';

export const RelaySub = {
  CIRCUIT_ID: 1,
  REMOTE_ID: 2,
  LINK_SELECTION: 5,
  SUBSCRIBER_ID: 6,
  SERVER_ID_OVERRIDE: 11,
} as const;

export interface RelaySubOption {
  code: number;
  data: Uint8Array;
}

export interface RelayAgentInfo {
  circuitId?: Uint8Array;
  remoteId?: Uint8Array;
  subscriberId?: Uint8Array;
  /** every sub-option in wire order, named ones included */
  subOptions: RelaySubOption[];
}

/** Parses the data of option 82. Repeated sub-options keep their first instance as the named value. */
export function decodeRelayAgent(data: Uint8Array): RelayAgentInfo {
  const info: RelayAgentInfo = { subOptions: [] };
  let i = 0;
  while (i < data.length) {
    const code = data[i] as number;
    if (i + 1 >= data.length) {
      throw new AgentError('DHCP_BAD_OPTION', `option 82 sub-option ${code} has no length byte`, { code: 82, subOption: code, offset: i, length: data.length });
    }
    const len = data[i + 1] as number;
    if (i + 2 + len > data.length) {
      throw new AgentError('DHCP_BAD_OPTION', `option 82 sub-option ${code} claims ${len} bytes but only ${data.length - i - 2} remain`, {
        code: 82,
        subOption: code,
        offset: i,
        length: data.length,
      });
    }
    const value = data.subarray(i + 2, i + 2 + len);
    info.subOptions.push({ code, data: value });
    if (code === RelaySub.CIRCUIT_ID && !info.circuitId) info.circuitId = value;
    else if (code === RelaySub.REMOTE_ID && !info.remoteId) info.remoteId = value;
    else if (code === RelaySub.SUBSCRIBER_ID && !info.subscriberId) info.subscriberId = value;
    i += 2 + len;
  }
  return info;
}

/** Builds option 82 data from sub-options (each at most 255 bytes; the codec splits the option per RFC 3396 if needed). */
export function encodeRelayAgent(subOptions: readonly RelaySubOption[]): Uint8Array {
  for (const s of subOptions) {
    if (!Number.isInteger(s.code) || s.code < 0 || s.code > 255) {
      throw new AgentError('DHCP_ENCODE_INVALID', `option 82 sub-option code must be 0..255, got ${s.code}`, { code: 82 });
    }
    if (s.data.length > 255) {
      throw new AgentError('DHCP_ENCODE_INVALID', `option 82 sub-option ${s.code} is ${s.data.length} bytes, at most 255`, { code: 82, subOption: s.code });
    }
  }
  return encodeTlv(subOptions);
}
