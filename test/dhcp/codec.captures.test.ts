import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { AgentError } from '../../agent/errors.ts';
import { toHex } from '../../agent/util/bytes.ts';
import { dhcpPayloads } from './captures.ts';

/** code:hex of each option instance in the options field, pads skipped, up to END. */
function optionArea(b: Uint8Array): string[] {
  const out: string[] = [];
  let i = 240;
  while (i < b.length && b[i] !== 255) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    const l = b[i + 1] as number;
    out.push(`${b[i]}:${toHex(b.subarray(i + 2, i + 2 + l))}`);
    i += 2 + l;
  }
  return out;
}

describe('codec against the shared third-party captures', () => {
  const payloads = dhcpPayloads();
  const decodable = payloads.filter((p) => {
    try {
      decodeMessage(p.payload);
      return true;
    } catch {
      return false;
    }
  });

  it('finds the DHCP packets of all four captures', () => {
    expect(new Set(payloads.map((p) => p.file)).size).toBe(4);
    expect(payloads.length).toBe(9 + 2 + 1 + 36); // tshark -Y "udp.port==67 or udp.port==68" counts the same
  });

  it('decodes every packet except the two tcpdump keeps as malformed (bad magic cookie)', () => {
    const bad = payloads.filter((p) => !decodable.includes(p));
    expect(bad.map((p) => `${p.file}#${p.frame}`)).toEqual(['tcpdump_dhcp-rfc4388.pcap#43', 'tcpdump_dhcp-rfc4388.pcap#44']);
    for (const p of bad) {
      expect(() => decodeMessage(p.payload), `${p.file}#${p.frame}`).toThrow(expect.objectContaining({ code: 'DHCP_BAD_COOKIE' }));
      expect(() => decodeMessage(p.payload)).toThrow(AgentError);
    }
  });

  it('decode then encode is the identity on header and options (modulo padding) for every packet', () => {
    for (const p of decodable) {
      const m = decodeMessage(p.payload);
      const e = encodeMessage(m, { minSize: p.payload.length });
      const where = `${p.file}#${p.frame}`;
      expect(toHex(e.subarray(0, 240)), where).toBe(toHex(p.payload.subarray(0, 240)));
      expect(optionArea(e), where).toEqual(optionArea(p.payload));
      expect(e.length, where).toBe(p.payload.length);
    }
  });
});
