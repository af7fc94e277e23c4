import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, peekMessageType } from '../../agent/dhcp/codec.ts';
import { dhcpPayloads } from './captures.ts';
import type { DhcpMessage } from '../../agent/dhcp/message.ts';
import { MAGIC_COOKIE, newMessage } from '../../agent/dhcp/message.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import { fromHex, toHex } from '../../agent/util/bytes.ts';

function header(): Uint8Array {
  const b = new Uint8Array(240);
  const dv = new DataView(b.buffer);
  b.set([1, 1, 6, 0]);
  dv.setUint32(4, 0xdeadbeef);
  dv.setUint16(8, 3);
  dv.setUint16(10, 0x8000);
  b.set([198, 18, 0, 9], 12);
  b.set([198, 18, 0, 10], 16);
  b.set([198, 18, 0, 1], 20);
  b.set([198, 18, 0, 254], 24);
  b.set(fromHex('02:00:5e:10:00:01'), 28);
  dv.setUint32(236, MAGIC_COOKIE);
  return b;
}

function packet(options: string, tail?: (b: Uint8Array) => void): Uint8Array {
  const opt = fromHex(options);
  const b = new Uint8Array(240 + opt.length);
  b.set(header());
  b.set(opt, 240);
  tail?.(b);
  return b;
}

function errorOf(f: () => unknown): AgentError {
  try {
    f();
  } catch (e) {
    if (e instanceof AgentError) return e;
    throw new Error(`expected AgentError, got ${String(e)}`);
  }
  throw new Error('expected an error');
}

function baseMessage(options: DhcpMessage['options'] = []): DhcpMessage {
  return newMessage({ op: 1, xid: 0x01020304, options });
}

/** code/length/data triples of an option area, pads skipped, stopping at END. */
function tlvs(b: Uint8Array, start: number, end: number): string[] {
  const out: string[] = [];
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c === 0) {
      i++;
      continue;
    }
    if (c === 255) break;
    const l = b[i + 1] as number;
    out.push(`${c}:${toHex(b.subarray(i + 2, i + 2 + l))}`);
    i += 2 + l;
  }
  return out;
}

describe('decodeMessage: header and options table', () => {
  const bytes = packet('350101 3204c612000a 3703010306 0c0463706531 ff');
  const m = decodeMessage(bytes);
  it('reads every BOOTP header field', () => {
    expect(m).toMatchObject({ op: 1, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 3, flags: 0x8000 });
    expect([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr]).toEqual(['198.18.0.9', '198.18.0.10', '198.18.0.1', '198.18.0.254']);
    expect(toHex(m.chaddr)).toBe('02005e10000100000000000000000000');
    expect(m.sname.length).toBe(64);
    expect(m.file.length).toBe(128);
  });
  it('keeps options in wire order without pad/end', () => {
    expect(m.options.map((o) => [o.code, toHex(o.data)])).toEqual([
      [53, '01'],
      [50, 'c612000a'],
      [55, '010306'],
      [12, '63706531'],
    ]);
  });
  it('encodes back to the same bytes', () => {
    expect(toHex(encodeMessage(m, { minSize: 0 }))).toBe(toHex(bytes));
  });
  it('pads to 300 bytes by default (BOOTP minimum) with zeros after END', () => {
    const e = encodeMessage(m);
    expect(e.length).toBe(300);
    expect(e[bytes.length - 1]).toBe(255);
    expect(e.subarray(bytes.length).every((x) => x === 0)).toBe(true);
  });
  it('does not alias the caller buffer', () => {
    const copy = bytes.slice();
    const d = decodeMessage(copy);
    copy.fill(0xee);
    expect(d.xid).toBe(0xdeadbeef);
    expect(toHex(d.options[1]?.data ?? new Uint8Array())).toBe('c612000a');
  });
  it('does not alias a Node Buffer either (Buffer#slice is a view)', () => {
    const buf = Buffer.from(bytes);
    const d = decodeMessage(buf);
    buf.fill(0xee);
    expect(d.xid).toBe(0xdeadbeef);
    expect(toHex(d.chaddr.subarray(0, 6))).toBe('02005e100001');
    expect(toHex(d.options[3]?.data ?? new Uint8Array())).toBe('63706531');
  });
  it('skips pads between options', () => {
    const d = decodeMessage(packet('00 00 350105 00 ff 0000'));
    expect(d.options).toEqual([{ code: 53, data: new Uint8Array([5]) }]);
  });
});

describe('RFC 3396 long options', () => {
  const long = new Uint8Array(600).map((_, i) => i & 0xff);
  it('splits data > 255 bytes into consecutive instances', () => {
    const e = encodeMessage(baseMessage([{ code: 53, data: new Uint8Array([1]) }, { code: 119, data: long }]));
    const t = tlvs(e, 240, e.length);
    expect(t.map((x) => x.split(':')[0])).toEqual(['53', '119', '119', '119']);
    expect(t.slice(1).map((x) => (x.split(':')[1] ?? '').length / 2)).toEqual([255, 255, 90]);
    expect(toHex(decodeMessage(e).options[1]?.data ?? new Uint8Array())).toBe(toHex(long));
  });
  it('concatenates non-adjacent instances of a code in order', () => {
    const d = decodeMessage(packet('7702aabb 350101 7701cc ff'));
    expect(d.options.map((o) => [o.code, toHex(o.data)])).toEqual([
      [119, 'aabbcc'],
      [53, '01'],
    ]);
  });
});

describe('option 52 overload', () => {
  it('decodes options from file then sname (RFC 2131 §4.1) and zeroes those fields', () => {
    const b = packet('350105 340103 0c0161 ff', (p) => {
      p.set(fromHex('0c0162 0f03666f6f ff'), 108); // file: hostname part 2, domain
      p.set(fromHex('0c0163 4204736e616d ff'), 44); // sname: hostname part 3, option 66
    });
    const d = decodeMessage(b);
    expect(d.options.map((o) => [o.code, Buffer.from(o.data).toString()])).toEqual([
      [53, '\x05'],
      [12, 'abc'],
      [15, 'foo'],
      [66, 'snam'],
    ]);
    expect(d.file.every((x) => x === 0)).toBe(true);
    expect(d.sname.every((x) => x === 0)).toBe(true);
  });
  it('encodes spill-over into file and sname when maxSize forces it, and decodes back', () => {
    const opts = [
      { code: 53, data: new Uint8Array([2]) },
      { code: 54, data: new Uint8Array([198, 18, 0, 1]) },
      ...Array.from({ length: 12 }, (_, i) => ({ code: 200 + i, data: new Uint8Array(30).fill(i) })),
    ];
    const m = baseMessage(opts);
    const e = encodeMessage(m, { maxSize: 576 });
    expect(e.length).toBeLessThanOrEqual(576);
    const main = tlvs(e, 240, e.length);
    expect(main[0]).toBe('53:02');
    expect(main[1]).toMatch(/^52:0[123]$/);
    const d = decodeMessage(e);
    expect(d.options).toEqual(opts);
  });
  it('splits a long option across the areas when it has to', () => {
    const opts = [
      { code: 53, data: new Uint8Array([5]) },
      { code: 120, data: new Uint8Array(500).map((_, i) => (i * 7) & 0xff) },
    ];
    const e = encodeMessage(baseMessage(opts), { maxSize: 576 });
    expect(e.length).toBeLessThanOrEqual(576);
    expect(decodeMessage(e).options).toEqual(opts);
  });
  it('without overload the file and sname fields are kept as given', () => {
    const m = baseMessage([{ code: 53, data: new Uint8Array([1]) }]);
    m.file.set(Buffer.from('image.bin'));
    m.sname.set(Buffer.from('tftp1'));
    const d = decodeMessage(encodeMessage(m));
    expect(Buffer.from(d.file.subarray(0, 9)).toString()).toBe('image.bin');
    expect(Buffer.from(d.sname.subarray(0, 5)).toString()).toBe('tftp1');
  });
  it('throws DHCP_TOO_LARGE when even overload cannot hold the options', () => {
    const m = baseMessage([{ code: 43, data: new Uint8Array(250) }, { code: 44, data: new Uint8Array(250) }]);
    expect(errorOf(() => encodeMessage(m, { maxSize: 300 })).code).toBe('DHCP_TOO_LARGE');
  });
});

describe('bad input: each a typed DHCP_* code with the offset', () => {
  const cases: [string, Uint8Array, string, number][] = [
    ['truncated header', header().subarray(0, 100), 'DHCP_TRUNCATED_HEADER', 100],
    ['ends before the cookie', header().subarray(0, 238), 'DHCP_TRUNCATED_HEADER', 238],
    ['wrong magic cookie', packet('350101ff', (b) => b.set([0x63, 0x82, 0x53, 0x64], 236)), 'DHCP_BAD_COOKIE', 236],
    ['option length past the end', packet('350101 0c10616263'), 'DHCP_OPTION_OVERFLOW', 243],
    ['option without length byte', packet('350101 0c'), 'DHCP_OPTION_TRUNCATED', 243],
    ['missing end option', packet('350101 0c03616263'), 'DHCP_NO_END', 248],
    ['missing end option, only pads', packet('350101 000000'), 'DHCP_NO_END', 246],
    ['overload into a file with no options', packet('350101 340101 ff'), 'DHCP_OVERLOAD_ABSENT', 108],
    ['overload into an sname without end', packet('350101 340102 ff', (b) => b.set(fromHex('0c0161'), 44)), 'DHCP_OVERLOAD_ABSENT', 44],
    ['overload value 4', packet('350101 340104 ff'), 'DHCP_BAD_OVERLOAD', 243],
    ['overload option in file', packet('340101 ff', (b) => b.set(fromHex('340102 ff'), 108)), 'DHCP_BAD_OVERLOAD', 108],
    ['option overflow inside file', packet('340101 ff', (b) => b.set(fromHex('0cff61'), 108)), 'DHCP_OPTION_OVERFLOW', 108],
  ];
  for (const [name, bytes, code, offset] of cases) {
    it(name, () => {
      const e = errorOf(() => decodeMessage(bytes));
      expect(e.code).toBe(code);
      expect(e.details['offset']).toBe(offset);
      expect(e.message.length).toBeGreaterThan(10);
    });
  }
  it('encoder rejects bad fields with DHCP_ENCODE_INVALID naming the field', () => {
    const m = baseMessage();
    m.yiaddr = '198.18.0.256';
    expect(errorOf(() => encodeMessage(m)).details['field']).toBe('yiaddr');
    const m2 = baseMessage([{ code: 52, data: new Uint8Array([1]) }]);
    expect(errorOf(() => encodeMessage(m2)).code).toBe('DHCP_ENCODE_INVALID');
    const m3 = baseMessage();
    m3.xid = 2 ** 32;
    expect(errorOf(() => encodeMessage(m3)).details['field']).toBe('xid');
  });
});

// ---------------------------------------------------------------- properties

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);
const arbMessage = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.nat(16),
    hops: fc.nat(255),
    xid: fc.nat({ max: 0xffffffff }),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    file: fc.uint8Array({ minLength: 128, maxLength: 128 }),
    options: fc.uniqueArray(
      fc.record({ code: optionCode, data: fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 40, size: 'max' }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 700, size: 'max' }) }) }),
      { selector: (o) => o.code, maxLength: 20, size: 'max' },
    ),
  })
  .map((m): DhcpMessage => m);

describe('properties', () => {
  it('decode(encode(m)) = m for arbitrary messages, long options included', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });

  it('with maxSize: fits and round-trips (overloaded file/sname come back zeroed), or DHCP_TOO_LARGE', () => {
    const seen = { overloaded: 0, tooLarge: 0, plain: 0 };
    fc.assert(
      fc.property(arbMessage, fc.integer({ min: 300, max: 1500 }), (m, maxSize) => {
        let e: Uint8Array;
        try {
          e = encodeMessage(m, { maxSize });
        } catch (err) {
          expect(err).toBeInstanceOf(AgentError);
          expect((err as AgentError).code).toBe('DHCP_TOO_LARGE');
          seen.tooLarge++;
          return;
        }
        expect(e.length).toBeLessThanOrEqual(Math.max(maxSize, 300));
        const d = decodeMessage(e);
        expect(d.options).toEqual(m.options);
        const ov = tlvs(e, 240, e.length).find((t) => t.startsWith('52:'));
        const flag = ov ? Number.parseInt(ov.slice(3), 16) : 0;
        if (flag) seen.overloaded++;
        else seen.plain++;
        expect(d.file).toEqual(flag & 1 ? new Uint8Array(128) : m.file);
        expect(d.sname).toEqual(flag & 2 ? new Uint8Array(64) : m.sname);
      }),
      { numRuns: 200 },
    );
    // the property must have exercised both layouts (DHCP_TOO_LARGE has its own case above)
    expect(seen.overloaded).toBeGreaterThan(0);
    expect(seen.plain).toBeGreaterThan(0);
  });

  const onlyAgentErrors = (b: Uint8Array): void => {
    try {
      decodeMessage(b);
    } catch (e) {
      expect(e).toBeInstanceOf(AgentError);
      expect((e as AgentError).code).toMatch(/^DHCP_/);
      expect(typeof (e as AgentError).details['offset']).toBe('number');
    }
  };

  it('random bytes never crash the decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 700, size: 'max' }), onlyAgentErrors), { numRuns: 2000 });
  });

  it('random bytes after a valid header and cookie never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400, size: 'max' }), fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.nat(3), (tail, fields, ov) => {
        const b = new Uint8Array(240 + 3 + tail.length);
        b.set(header());
        b.set(fields, 44); // sname + file garbage
        b.set([52, 1, ov], 240);
        b.set(tail, 243);
        onlyAgentErrors(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('corrupting bytes of a valid packet never crashes the decoder', () => {
    fc.assert(
      fc.property(arbMessage, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), (m, flips) => {
        let e: Uint8Array;
        try {
          e = encodeMessage(m, { maxSize: 576 });
        } catch {
          e = encodeMessage(m);
        }
        for (const [at, v] of flips) e[at % e.length] = v;
        onlyAgentErrors(e);
      }),
      { numRuns: 500 },
    );
  });
});

/** What a reader of decodeMessage sees as the type: option 53 when one byte, else 0; undefined when it throws. */
function decodedType(b: Uint8Array): number | undefined {
  let m: DhcpMessage;
  try {
    m = decodeMessage(b);
  } catch (e) {
    expect(e).toBeInstanceOf(AgentError);
    return undefined;
  }
  const o = m.options.find((x) => x.code === 53);
  return o && o.data.length === 1 ? (o.data[0] as number) : 0;
}

describe('peekMessageType agrees with decodeMessage', () => {
  // option 53 of 0..3 bytes (mostly one), placed anywhere among the other options
  const withType = fc
    .tuple(arbMessage, fc.oneof({ weight: 6, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3 }) }), fc.nat(), fc.boolean())
    .map(([m, t, at, present]): DhcpMessage => {
      const options = m.options.filter((o) => o.code !== 53);
      if (present) options.splice(at % (options.length + 1), 0, { code: 53, data: t });
      return { ...m, options };
    });
  const encodings = (m: DhcpMessage): Uint8Array[] => {
    const out = [encodeMessage(m)];
    try {
      out.push(encodeMessage(m, { maxSize: 300 + (m.xid % 300) })); // overloaded file/sname
    } catch (e) {
      if (!isAgentError(e, 'DHCP_TOO_LARGE')) throw e; // does not fit: the plain encoding only
    }
    return out;
  };

  it('on the shared third-party captures', () => {
    const payloads = dhcpPayloads();
    expect(payloads.length).toBeGreaterThan(10);
    const types = new Set<number | undefined>();
    for (const p of payloads) {
      const want = decodedType(p.payload);
      types.add(want);
      expect(peekMessageType(p.payload), `${p.file} frame ${p.frame}`).toBe(want);
    }
    expect(types.size).toBeGreaterThan(3);
  });

  it('on random messages, plain and overloaded', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(withType, (m) => {
        for (const e of encodings(m)) {
          const want = decodedType(e);
          seen.add(want === undefined ? 'error' : want === 0 ? 'none' : 'typed');
          expect(peekMessageType(e)).toBe(want);
        }
      }),
      { numRuns: 500 },
    );
    expect(seen).toEqual(new Set(['none', 'typed']));
  });

  it('on corrupted messages and random bytes (undefined exactly when decoding throws)', () => {
    const seen = new Set<boolean>();
    fc.assert(
      fc.property(withType, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.nat(40), (m, flips, cut) => {
        for (const e of encodings(m)) {
          for (const [at, v] of flips) e[240 + (at % Math.max(1, e.length - 240))] = v;
          const b = e.subarray(0, Math.max(0, e.length - cut));
          const want = decodedType(b);
          seen.add(want === undefined);
          expect(peekMessageType(b)).toBe(want);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400, size: 'max' }), fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.nat(3), (tail, fields, ov) => {
        const b = new Uint8Array(240 + 3 + tail.length);
        b.set(header());
        b.set(fields, 44);
        b.set([52, 1, ov], 240);
        b.set(tail, 243);
        expect(peekMessageType(b)).toBe(decodedType(b));
      }),
      { numRuns: 500 },
    );
    expect(seen).toEqual(new Set([true, false]));
  });

  it('RFC 3396: instances of option 53 count together; a two-byte type is no type', () => {
    expect(peekMessageType(packet('350105ff'))).toBe(5);
    expect(peekMessageType(packet('35003501 05ff'))).toBe(5);
    expect(peekMessageType(packet('3501053501 05ff'))).toBe(0);
    expect(peekMessageType(packet('0c0161ff'))).toBe(0);
    expect(peekMessageType(packet('350105'))).toBeUndefined(); // no END
    expect(peekMessageType(packet('350105ff').subarray(0, 239))).toBeUndefined();
    // type carried in the overloaded file field
    const b = packet('340101ff', (x) => x.set([53, 1, 3, 255], 108));
    expect(peekMessageType(b)).toBe(3);
    expect(decodedType(b)).toBe(3);
  });
});
