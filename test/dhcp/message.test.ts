import { describe, expect, it } from 'vitest';
import { newMessage, ZERO_IP } from '../../agent/dhcp/message.ts';

describe('newMessage', () => {
  it('fields left out, or undefined, take their empty values', () => {
    const m = newMessage({ op: 1, xid: 7, ciaddr: undefined });
    expect(m).toEqual({
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 7,
      secs: 0,
      flags: 0,
      ciaddr: ZERO_IP,
      yiaddr: ZERO_IP,
      siaddr: ZERO_IP,
      giaddr: ZERO_IP,
      chaddr: new Uint8Array(16),
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      options: [],
    });
  });

  it('takes the fields given, and never shares a buffer between two messages', () => {
    const m = newMessage({ op: 2, xid: 1, hlen: 8, flags: 0x8000, yiaddr: '198.18.0.10', options: [{ code: 53, data: Uint8Array.of(5) }] });
    expect(m).toMatchObject({ op: 2, hlen: 8, flags: 0x8000, yiaddr: '198.18.0.10', options: [{ code: 53 }] });
    const n = newMessage({ op: 2, xid: 2 });
    expect(n.chaddr).not.toBe(m.chaddr);
    expect(n.sname).not.toBe(m.sname);
    expect(n.file).not.toBe(m.file);
  });
});
