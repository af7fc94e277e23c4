import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRelayAgent, encodeRelayAgent, RelaySub } from '../../agent/dhcp/relay-agent.ts';
import { AgentError } from '../../agent/errors.ts';
import { fromHex, toHex } from '../../agent/util/bytes.ts';

describe('option 82 relay agent information (RFC 3046, RFC 3993)', () => {
  it('decodes the sub-options of the zeek capture ACK (circuit, remote, subscriber)', () => {
    // bytes of option 82 in zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap
    const d = fromHex('011674686973206973206f6e6c79206120746573742e2e2e020113 06072d73756249442d');
    const r = decodeRelayAgent(d);
    expect(Buffer.from(r.circuitId ?? []).toString()).toBe('this is only a test...');
    expect(toHex(r.remoteId ?? new Uint8Array())).toBe('13');
    expect(Buffer.from(r.subscriberId ?? []).toString()).toBe('-subID-');
  });
  it('keeps unknown sub-options raw and in order; the first repeated named one wins', () => {
    const r = decodeRelayAgent(fromHex('0502c612 0101aa 0101bb 9700'));
    expect(r.subOptions.map((s) => [s.code, toHex(s.data)])).toEqual([
      [5, 'c612'],
      [1, 'aa'],
      [1, 'bb'],
      [151, ''],
    ]);
    expect(toHex(r.circuitId ?? new Uint8Array())).toBe('aa');
    expect(r.remoteId).toBeUndefined();
  });
  it('malformed data throws DHCP_BAD_OPTION with code 82 and the offset', () => {
    for (const [hex, offset] of [
      ['0103aabb', 0],
      ['0101aa02', 3],
    ] as const) {
      try {
        decodeRelayAgent(fromHex(hex));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(AgentError);
        expect((e as AgentError).code).toBe('DHCP_BAD_OPTION');
        expect((e as AgentError).details['code']).toBe(82);
        expect((e as AgentError).details['offset']).toBe(offset);
      }
    }
  });
  it('encode/decode round trip', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ code: fc.nat(255), data: fc.uint8Array({ maxLength: 40, size: 'max' }) }), { maxLength: 8 }), (subs) => {
        expect(decodeRelayAgent(encodeRelayAgent(subs)).subOptions).toEqual(subs);
      }),
    );
    expect(toHex(encodeRelayAgent([{ code: RelaySub.REMOTE_ID, data: fromHex('02005e100001') }]))).toBe('020602005e100001');
  });
  it('random bytes only ever throw DHCP_BAD_OPTION', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80, size: 'max' }), (b) => {
        try {
          decodeRelayAgent(b);
        } catch (e) {
          expect((e as AgentError).code).toBe('DHCP_BAD_OPTION');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
