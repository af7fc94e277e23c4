/** `cpe-agent decode …` through the built binary (dist/cpe-agent), as operators run it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT, capturePath } from '../helpers/prereq.ts';
import { ensureBuiltAgent } from '../helpers/built-agent.ts';
import { writePcap, writePcapng } from '../../agent/pcap/writer.ts';
import { LinkType } from '../../agent/pcap/frames.ts';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { encodeOption43 } from '../../agent/option43/codec.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import { dhcpFrame, dhcpMessage, ethernet, ipUdp, sll, sll2 } from '../pcap/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'decode-cli-'));

function run(...args: string[]): { code: number | null; out: string; err: string } {
  return runWith(undefined, ...args);
}

function runWith(input: Uint8Array | undefined, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(AGENT, args, { encoding: 'utf8', ...(input ? { input } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(() => {
  ensureBuiltAgent();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const OPT43 = `010101 0204c6120002 0303637065 0406733363726574 0505612e62696e 0610${MD5} 09020001 2a020102`;

describe('decode opt43', () => {
  it('--json prints one Option43Offer object', () => {
    const r = run('decode', 'opt43', OPT43.replace(/ /g, ''), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      protocol: 'ftp',
      server: '198.18.0.2',
      user: 'cpe',
      password: 's3cret',
      softwareFile: 'a.bin',
      softwareMd5: MD5,
      flags: 1,
      urgent: true,
      unknown: [{ code: 42, hex: '0102' }],
    });
  });
  it('without --json prints a readable table naming the profile of the vendor class', () => {
    const r = run('decode', 'opt43', ...OPT43.split(' '), '--vendor-class', 'ESH-3105'); // unquoted hex words are joined
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^profile\s+cts business \(vendor class "ESH-3105"\)$/m);
    expect(r.out).toMatch(/^server\s+198\.18\.0\.2$/m);
    expect(r.out).toMatch(/^password\s+s3cret$/m);
    expect(r.out).toMatch(/^softwareMd5\s+d41d8cd98f00b204e9800998ecf8427e$/m);
    expect(r.out).toMatch(/^urgent\s+true$/m);
    expect(r.out).toMatch(/^unknown 42\s+0102$/m);
  });
  it('bad input exits 2 with a typed error', () => {
    expect(JSON.parse(run('decode', 'opt43', '0x010100', '--json').out)).toEqual({ protocol: 'tftp', unknown: [] });
    const bad = run('decode', 'opt43', 'xyz', '--json');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^cpe-agent: error \[CLI_BAD_HEX\]: /);
    const proto = run('decode', 'opt43', '010107');
    expect(proto.code).toBe(2);
    expect(proto.err).toMatch(/^cpe-agent: error \[OPT43_BAD_ENUM\]: sub-option 1 \(protocol\)/);
    const md5 = run('decode', 'opt43', `060f${MD5.slice(0, 30)}`);
    expect(md5.err).toMatch(/\[OPT43_BAD_MD5\]/);
  });
});

describe('decode pcap', () => {
  it('--json: one object per DHCP message with the contract fields (zeek capture)', () => {
    const r = run('decode', 'pcap', capturePath('zeek_dhcp.pcap'), '--json');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.out);
    expect(lines.map((l) => l['messageType'])).toEqual(['DISCOVER', 'OFFER', 'REQUEST', 'NAK', 'REQUEST', 'ACK', 'DECLINE', 'RELEASE', 'INFORM']);
    const offer = lines[1] as Record<string, unknown>;
    expect(offer).toMatchObject({
      time: '2013-06-02T19:14:02.328Z',
      xid: 1984,
      chaddr: '90:b1:1c:99:49:29',
      ciaddr: '0.0.0.0',
      yiaddr: '128.2.6.97',
      siaddr: '172.19.230.7',
      giaddr: '0.0.0.0',
      vendorClass: 'ArubaAP',
      leaseSeconds: 900,
    });
    expect(offer['options']).toMatchObject({ '1': '255.255.255.0', '3': ['128.2.6.1'], '51': 900, '53': 'OFFER', '54': '128.2.6.152', '60': 'ArubaAP', '43': '3137322e31382e362e3337' });
  });
  it('option 82 sub-options as hex (zeek subscriber-id capture)', () => {
    const [ack] = jsonLines(run('decode', 'pcap', capturePath('zeek_dhcp_ack_subscriber_id_and_agent_remote_id.pcap'), '--json').out);
    expect(ack?.['relayAgent']).toEqual({ circuitId: '74686973206973206f6e6c79206120746573742e2e2e', remoteId: '13', subscriberId: '2d73756249442d' });
    expect(ack?.['leaseSeconds']).toBe(3600);
  });
  it('a packet that fails to decode prints an error line and the run continues (tcpdump capture)', () => {
    const r = run('decode', 'pcap', capturePath('tcpdump_dhcp-rfc4388.pcap'), '--json');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.out);
    expect(lines.length).toBe(36);
    const errors = lines.filter((l) => l['error']);
    expect(errors.map((l) => l['error'])).toEqual([
      { code: 'DHCP_BAD_COOKIE', message: expect.stringMatching(/magic cookie/), offset: 236 },
      { code: 'DHCP_BAD_COOKIE', message: expect.stringMatching(/magic cookie/), offset: 236 },
    ]);
    expect(lines.map((l) => l['messageType'])).toContain('LEASEQUERY');
    expect(lines.map((l) => l['messageType'])).toContain('LEASEACTIVE');
    expect(lines.map((l) => l['messageType'])).toContain('LEASEUNKNOWN');
    expect(lines.filter((l) => l['giaddr'] === '10.30.1.1').length).toBeGreaterThan(10);
  });
  it('pcapng with Linux cooked v1 and v2 frames', () => {
    const file = join(dir, 'cooked.pcapng');
    const t = Date.UTC(2026, 10, 23, 19, 0, 0);
    writeFileSync(
      file,
      writePcapng([
        { time: t, data: sll(ipUdp(encodeMessage(dhcpMessage(0x51, 1)))), linkType: LinkType.LINUX_SLL },
        { time: t + 5, data: sll2(ipUdp(encodeMessage(dhcpMessage(0x52, 5)), { sport: 67, dport: 68 })), linkType: LinkType.LINUX_SLL2 },
      ]),
    );
    const lines = jsonLines(run('decode', 'pcap', file, '--json').out);
    expect(lines.map((l) => [l['time'], l['messageType'], l['xid'], l['vendorClass']])).toEqual([
      ['2026-11-23T19:00:00.000Z', 'DISCOVER', 0x51, 'FS-0900E'],
      ['2026-11-23T19:00:00.005Z', 'ACK', 0x52, 'FS-0900E'],
    ]);
  });
  it('option 43 of a reply is decoded with the profile of the vendor class its request sent', () => {
    const t = Date.UTC(2026, 10, 23, 19, 0, 0);
    const reply = (xid: number, o43: Uint8Array): Uint8Array => {
      const m = dhcpMessage(xid, 2);
      m.options = m.options.filter((o) => o.code !== 60); // servers do not echo option 60
      m.options.push({ code: 43, data: o43 });
      return encodeMessage(m);
    };
    const good = encodeOption43({ protocol: 'tftp', server: '198.18.0.2', softwareFile: 'fw.bin', softwareMd5: MD5, urgent: true, unknown: [] }, CTS_PROFILE);
    const unknownClient = dhcpMessage(0x63, 1);
    unknownClient.options = unknownClient.options.filter((o) => o.code !== 60);
    const file = join(dir, 'cts.pcap');
    writeFileSync(
      file,
      writePcap(1, [
        { time: t, data: ethernet(ipUdp(encodeMessage(dhcpMessage(0x61, 1)))) },
        { time: t + 1, data: ethernet(ipUdp(reply(0x61, good), { sport: 67, dport: 68 })) },
        { time: t + 2, data: ethernet(ipUdp(encodeMessage(dhcpMessage(0x62, 1)))) },
        { time: t + 3, data: ethernet(ipUdp(reply(0x62, new Uint8Array([1, 1, 7])), { sport: 67, dport: 68 })) },
        { time: t + 4, data: ethernet(ipUdp(encodeMessage(unknownClient))) },
        { time: t + 5, data: ethernet(ipUdp(reply(0x63, good), { sport: 67, dport: 68 })) },
      ]),
    );
    const lines = jsonLines(run('decode', 'pcap', file, '--json').out);
    expect(lines[1]?.['option43']).toEqual({ protocol: 'tftp', server: '198.18.0.2', softwareFile: 'fw.bin', softwareMd5: MD5, flags: 1, urgent: true, unknown: [] });
    expect(lines[3]?.['option43Error']).toMatchObject({ code: 'OPT43_BAD_ENUM' });
    expect(lines[5]?.['option43']).toBeUndefined(); // no registered vendor class: left as hex
    expect(lines[5]?.['options']).toMatchObject({ '43': Buffer.from(good).toString('hex') });
    const text = run('decode', 'pcap', file).out.split('\n');
    expect(text[1]).toMatch(/ OFFER .* opt43=\[tftp 198\.18\.0\.2 fw\.bin urgent\]$/);
    expect(text[3]).toMatch(/ opt43-error=OPT43_BAD_ENUM$/);
  });
  it('without --json: one readable line per message', () => {
    const r = run('decode', 'pcap', capturePath('sv_dhcp-eve-extended.pcap'));
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^2020-04-29T19:58:19\.\d{3}Z 10\.16\.1\.4:68 > 10\.16\.1\.1:67 REQUEST +xid=0xef645744 chaddr=00:11:32:17:49:f0 ciaddr=10\.16\.1\.4$/);
    expect(lines[1]).toMatch(/ ACK +xid=0xef645744 .* yiaddr=10\.16\.1\.4 lease=3600s server-id=10\.16\.1\.1$/);
  });
  it('reads a capture from stdin with - (as from tcpdump -w -)', () => {
    const r = runWith(readFileSync(capturePath('zeek_dhcp.pcap')), 'decode', 'pcap', '-', '--json');
    expect(r.code).toBe(0);
    expect(jsonLines(r.out).map((l) => l['xid'])).toEqual([1984, 1984, 1984, 1984, 1984, 1984, 1984, 1948, 1988]);
  });
  it('a long dump piped into head stops quietly (no EPIPE crash) and a full read sees every packet', () => {
    const big = join(dir, 'big.pcap');
    writeFileSync(big, writePcap(1, Array.from({ length: 8000 }, (_, i) => ({ time: Date.UTC(2026, 0, 1) + i, data: dhcpFrame(i, 5) }))));
    const head = spawnSync('bash', ['-c', 'set -o pipefail; "$0" decode pcap "$1" --json | head -n 2', AGENT, big], { encoding: 'utf8' });
    expect(head.stderr).toBe('');
    expect(head.status).toBe(0);
    expect(head.stdout.trim().split('\n').length).toBe(2);
    const all = spawnSync('bash', ['-c', '"$0" decode pcap "$1" | wc -l', AGENT, big], { encoding: 'utf8' });
    expect(all.stdout.trim()).toBe('8000');
  }, 60_000);
  it('bad files exit 2 with a typed error', () => {
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    const e = run('decode', 'pcap', empty);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/\[PCAP_TRUNCATED\]: .*empty input/);
    expect(run('decode', 'pcap', dir).err).toMatch(/\[CLI_FILE\]/);
    const missing = run('decode', 'pcap', join(dir, 'nope.pcap'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^cpe-agent: error \[CLI_FILE\]: cannot read .*nope\.pcap/);
    const text = join(dir, 'text.pcap');
    writeFileSync(text, 'not a capture at all\n');
    const notCap = run('decode', 'pcap', text);
    expect(notCap.code).toBe(2);
    expect(notCap.err).toMatch(/\[PCAP_BAD_MAGIC\]/);
  });
  it('a truncated capture prints the packets before the cut, then exits 2', () => {
    const whole = readFileSync(capturePath('zeek_dhcp.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 50));
    const r = run('decode', 'pcap', cut, '--json');
    expect(r.code).toBe(2);
    expect(jsonLines(r.out).length).toBe(8);
    expect(r.err).toMatch(/^cpe-agent: error \[PCAP_TRUNCATED\]/);
  });
});

describe('decode dhcp', () => {
  it('decodes one message from hex', () => {
    const hex = Buffer.from(encodeMessage(dhcpMessage(0xabc, 5))).toString('hex');
    const r = run('decode', 'dhcp', hex, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ messageType: 'ACK', xid: 0xabc, yiaddr: '198.18.0.10', vendorClass: 'FS-0900E' });
    const bad = run('decode', 'dhcp', '0102');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\[DHCP_TRUNCATED_HEADER\]/);
  });
});
