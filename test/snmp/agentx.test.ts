/** AgentX stream framing (agent/snmp/agentx.ts PduFramer): whole PDUs, whatever the reads. */
import { describe, expect, it } from 'vitest';
import { PduFramer, parseMaster } from '../../agent/snmp/agentx.ts';

function pdu(type: number, payload: number, networkOrder = true): Buffer {
  const b = Buffer.alloc(20 + payload, 0xaa);
  b[0] = 1;
  b[1] = type;
  b[2] = networkOrder ? 0x10 : 0;
  if (networkOrder) b.writeUInt32BE(payload, 16);
  else b.writeUInt32LE(payload, 16);
  return b;
}

describe('PduFramer', () => {
  it('several PDUs in one read → each whole (the library alone kept only the first)', () => {
    const f = new PduFramer();
    const out = f.push(Buffer.concat([pdu(18, 8), pdu(18, 12), pdu(5, 24)]));
    expect(out.map((b) => [b[1], b.length])).toEqual([[18, 28], [18, 32], [5, 44]]);
  });

  it('a PDU split across reads (header too) → delivered once complete', () => {
    const f = new PduFramer();
    const whole = Buffer.concat([pdu(6, 40), pdu(18, 4, false)]);
    const got: number[] = [];
    for (let i = 0; i < whole.length; i += 7) got.push(...f.push(whole.subarray(i, i + 7)).map((b) => b.length));
    expect(got).toEqual([60, 24]);
  });

  it('an absurd length is an error, not a hang', () => {
    const b = pdu(18, 0);
    b.writeUInt32BE(0x7fffffff, 16);
    expect(() => new PduFramer().push(b)).toThrow(/AgentX PDU of/);
  });

  it('master: unix path or host:port', () => {
    expect(parseMaster('/var/agentx/master')).toEqual({ host: 'localhost', port: '/var/agentx/master' });
    expect(parseMaster('127.0.0.1:705')).toEqual({ host: '127.0.0.1', port: 705 });
  });
});
