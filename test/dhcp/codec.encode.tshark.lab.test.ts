/**
 * tshark as the oracle for the encoder: messages with long options (RFC 3396) and option 52
 * overload, encoded by us, must dissect in Wireshark to the same options and values.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';
import { isAgentError } from '../../agent/errors.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import type { DhcpMessage, DhcpOption } from '../../agent/dhcp/message.ts';
import { writePcap } from '../../agent/pcap/writer.ts';
import { dhcpMessage, ethernet, ipUdp } from '../pcap/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'codec-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const word = fc.string({ minLength: 1, maxLength: 12, size: 'max', unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789') });
const arbExtra = fc.record({
  hostname: word.chain((w) => fc.integer({ min: 1, max: 20 }).map((n) => w.repeat(n).slice(0, 120))),
  domain: fc.array(word, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')),
  tftp: word,
  dnsCount: fc.integer({ min: 1, max: 30 }),
  privates: fc.uniqueArray(fc.record({ code: fc.integer({ min: 224, max: 254 }), len: fc.integer({ min: 0, max: 300 }) }), { selector: (p) => p.code, maxLength: 3 }),
  maxSize: fc.constantFrom(576, 576, 700, 1500, undefined),
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describeLab('encoder vs tshark dissection', ['tshark'], () => {
  it('long and overloaded options dissect to the same values', () => {
    const samples = fc.sample(arbExtra, { numRuns: 120, seed: 4242 });
    const messages: { msg: DhcpMessage; bytes: Uint8Array }[] = [];
    for (const [i, s] of samples.entries()) {
      const msg = dhcpMessage(0x5000 + i, 5);
      const extra: DhcpOption[] = [
        { code: 12, data: text(s.hostname) },
        { code: 15, data: text(s.domain) },
        { code: 6, data: new Uint8Array(4 * s.dnsCount).map((_, k) => (k % 4 === 0 ? 198 : k % 4 === 1 ? 18 : k)) },
        { code: 66, data: text(s.tftp) },
        ...s.privates.map((p) => ({ code: p.code, data: new Uint8Array(p.len).map((_, k) => (k * 13 + p.code) & 0xff) })),
      ];
      msg.options.push(...extra);
      try {
        messages.push({ msg, bytes: encodeMessage(msg, s.maxSize === undefined ? {} : { maxSize: s.maxSize }) });
      } catch (e) {
        if (!isAgentError(e, 'DHCP_TOO_LARGE')) throw e; // too large: nothing to dissect
      }
    }
    const overloaded = messages.filter((m) => m.bytes[243] === 52).length; // 53 first, then 52
    expect(overloaded).toBeGreaterThan(5);
    expect(messages.some((m) => m.msg.options.some((o) => o.data.length > 255))).toBe(true);

    const file = join(dir, 'encoded.pcap');
    writeFileSync(file, writePcap(1, messages.map((m, i) => ({ time: Date.UTC(2026, 0, 1) + i, data: ethernet(ipUdp(m.bytes, { sport: 67, dport: 68 })) }))));
    const fields = ['dhcp.id', 'dhcp.option.type', 'dhcp.option.length', 'dhcp.option.hostname', 'dhcp.option.domain_name', 'dhcp.option.tftp_server_name', 'dhcp.option.domain_name_server', '_ws.malformed'];
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const rows = out.split('\n').filter(Boolean);
    expect(rows.length).toBe(messages.length);
    rows.forEach((row, i) => {
      const [id, types, lengths, host, domain, tftp, dns, malformed] = row.split('\t');
      const { msg } = messages[i] as { msg: DhcpMessage };
      const where = `message ${i}`;
      expect(malformed, where).toBe('');
      expect(Number(id), where).toBe(msg.xid);
      // per code, tshark's instance lengths add up to our option data (RFC 3396 split)
      const t = (types ?? '').split('|').map(Number);
      const l = (lengths ?? '').split('|').map(Number);
      const sums = new Map<number, number>();
      let li = 0;
      for (const code of t) {
        if (code === 0 || code === 255) continue; // END has no length field
        sums.set(code, (sums.get(code) ?? 0) + (l[li++] ?? NaN));
      }
      sums.delete(52);
      expect(Object.fromEntries(sums), where).toEqual(Object.fromEntries(msg.options.map((o) => [o.code, o.data.length])));
      const want = (code: number): string => new TextDecoder().decode(msg.options.find((o) => o.code === code)?.data);
      // tshark shows each instance of a split text option separately; joined they are ours
      expect((host ?? '').split('|').join(''), where).toBe(want(12));
      expect((domain ?? '').split('|').join(''), where).toBe(want(15));
      expect(tftp, where).toBe(want(66));
      const dnsData = msg.options.find((o) => o.code === 6)?.data ?? new Uint8Array();
      const ips = Array.from({ length: dnsData.length / 4 }, (_, k) => Array.from(dnsData.subarray(4 * k, 4 * k + 4)).join('.'));
      expect((dns ?? '').split(/[|,]/), where).toEqual(ips);
    });
  });
});
