import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, peekMessageType } from '../../agent/dhcp/codec.ts';
import { fromDhcpMessage, ignoredTransaction, isLegMessageType } from '../../agent/leg/transaction.ts';
import { buildMessage } from '../../scripts/bench/gen-dhcp-capture.ts';
import { dhcpPayloads } from '../dhcp/captures.ts';

const T = 1_767_225_600_123;

/** The fast path for ignored messages must give what the full decode gives. */
function checkIgnored(payload: Uint8Array): boolean {
  const type = peekMessageType(payload);
  if (type === undefined || isLegMessageType(type)) return false;
  expect(ignoredTransaction(payload, type, T)).toEqual(fromDhcpMessage(decodeMessage(payload), T));
  return true;
}

describe('ignoredTransaction equals fromDhcpMessage(decodeMessage(…)) for ignored types', () => {
  it('on the shared captures', () => {
    let n = 0;
    for (const p of dhcpPayloads()) if (checkIgnored(p.payload)) n++;
    expect(n).toBeGreaterThan(5);
  });

  it('on generated messages of every type, BOOTP included', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.nat({ max: 0xffffffff }), fc.boolean(), (type, xid, bound) => {
        const m = buildMessage({ type, xid, chaddr: '02:cc:00:00:00:07', ciaddr: bound ? '100.64.0.7' : '0.0.0.0', yiaddr: '100.64.0.7', lease: 3600 });
        if (type === 0) m.options = m.options.filter((o) => o.code !== 53);
        if (checkIgnored(encodeMessage(m))) n++;
        else expect(isLegMessageType(type)).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(n).toBeGreaterThan(100);
  });
});
