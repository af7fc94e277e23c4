/**
 * Our TFTP client against real servers in network namespaces: tftpd-hpa (the ISP's server),
 * atftpd 0.8 and the npm `tftp` server (both for RFC 7440 windowsize, which tftpd-hpa 5.2
 * lacks). The
 * client runs inside its own namespace as scripts/lab/tftp-get.ts (one JSON line out).
 * Address block 198.18.32.0/20, namespaces cpt-*.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeLab } from '../helpers/prereq.ts';
import { collectOutput, labTag, Netns, waitFor } from '../../scripts/lab/netns.ts';
import { ATFTPD, startAtftpd, startLossyRelay, startNpmTftpServer, startTftpd, type RunningTftpd } from '../../scripts/lab/tftpd.ts';

const GET = new URL('../../scripts/lab/tftp-get.ts', import.meta.url).pathname;
const SERVER = '198.18.32.1';
const CLIENT = '198.18.32.2';

interface GetResult {
  ok: boolean;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  bytes?: number;
  total?: number;
  md5?: string;
  writes: number;
  bytesWritten?: number;
  order: string[];
  negotiated?: { blksize: number; windowsize: number; tsize: number | null };
  complete?: { blocks: number; retransmits: number; duplicates: number; gaps: number };
  maxRssKiB: number;
  fallback: boolean;
  elapsedMs: number;
}

/** UDP payloads of a pcap file (Ethernet, IPv4, unfragmented). */
function udpPayloads(pcap: Buffer): Array<{ src: string; sport: number; dport: number; payload: Buffer }> {
  const out: Array<{ src: string; sport: number; dport: number; payload: Buffer }> = [];
  let off = 24;
  while (off + 16 <= pcap.length) {
    const incl = pcap.readUInt32LE(off + 8);
    const frame = pcap.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = ((ip[0] ?? 0) & 15) * 4;
    if (ip[9] !== 17 || (ip.readUInt16BE(6) & 0x1fff) !== 0) continue;
    const udp = ip.subarray(ihl);
    out.push({ src: `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`, sport: udp.readUInt16BE(0), dport: udp.readUInt16BE(2), payload: udp.subarray(8, udp.readUInt16BE(4)) });
  }
  return out;
}

describeLab('TFTP client against tftpd-hpa, atftpd and the npm tftp server', ['in.tftpd', ATFTPD, 'tcpdump'], () => {
  const net = new Netns();
  const tag = labTag();
  const srv = `cpt-s${tag}`;
  const cli = `cpt-c${tag}`;
  const root = mkdtempSync(join(tmpdir(), 'cpt-tftp-'));
  const md5 = new Map<string, string>();
  let tftpd: RunningTftpd;
  let npm: RunningTftpd;
  let atftpd: RunningTftpd;

  function file(name: string, data: Buffer): void {
    writeFileSync(join(root, name), data);
    chmodSync(join(root, name), 0o644);
    md5.set(name, createHash('md5').update(data).digest('hex'));
  }

  /** Runs `fn` while tcpdump records what the client sends; returns those UDP payloads. */
  async function fromClient<T>(name: string, fn: () => Promise<T>): Promise<[T, Buffer[]]> {
    const pcap = join(tmpdir(), `cpt-${tag}-${name}.pcap`);
    const dump = net.spawn(srv, ['tcpdump', '-i', 'eth0', '-U', '--immediate-mode', '-n', '-w', pcap, 'udp and src host', CLIENT]);
    const dumpOut = collectOutput(dump);
    try {
      await waitFor(() => dumpOut.text().includes('listening on'), 'tcpdump');
      const r = await fn();
      await new Promise((res) => setTimeout(res, 300));
      dump.kill('SIGTERM');
      await new Promise((res) => dump.once('exit', res));
      return [r, udpPayloads(readFileSync(pcap)).map((p) => p.payload)];
    } finally {
      if (dump.exitCode === null && dump.signalCode === null) dump.kill('SIGKILL');
      rmSync(pcap, { force: true });
    }
  }

  async function get(args: string[]): Promise<GetResult> {
    const r = await net.exec(cli, [process.execPath, GET, '--server', SERVER, ...args]);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as GetResult;
  }

  beforeAll(async () => {
    chmodSync(root, 0o755);
    file('small.bin', randomBytes(1024 * 1024 + 123));
    file('exact.bin', randomBytes(1468 * 300)); // last block is empty
    file('empty.bin', Buffer.alloc(0));
    file('big.bin', randomBytes(33 * 1024 * 1024)); // > 65535 blocks of 512: rollover
    file('medium.bin', randomBytes(8 * 1024 * 1024));
    file('lossy.bin', randomBytes(256 * 1024 + 77));
    file('wrap40.bin', randomBytes(65_536 * 40 + 1001)); // blksize 40: 65,562 blocks, past 65535
    await net.add(srv);
    await net.add(cli);
    await net.veth(srv, 'eth0', cli, 'eth0');
    await net.addr(srv, 'eth0', `${SERVER}/24`);
    await net.addr(cli, 'eth0', `${CLIENT}/24`);
    tftpd = await startTftpd(net, srv, { root, address: SERVER });
    npm = await startNpmTftpServer(net, srv, { root, address: SERVER, port: 1069, windowsize: 8 });
    atftpd = await startAtftpd(net, srv, { root, address: SERVER, port: 4069 });
  });

  afterAll(async () => {
    await tftpd?.stop();
    await npm?.stop();
    await atftpd?.stop();
    await net.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  for (const blksize of [512, 1468, 8192]) {
    it(`blksize ${blksize}: tftpd-hpa grants it and the MD5 of what arrived is the file's`, async () => {
      const r = await get(['--file', 'small.bin', '--blksize', String(blksize)]);
      expect(r).toMatchObject({ ok: true, bytes: 1024 * 1024 + 123, total: 1024 * 1024 + 123, md5: md5.get('small.bin') });
      expect(r.negotiated).toMatchObject({ blksize, windowsize: 1, tsize: 1024 * 1024 + 123 });
    });
  }

  it('a file that is an exact multiple of blksize ends with an empty block', async () => {
    const r = await get(['--file', 'exact.bin']);
    expect(r).toMatchObject({ ok: true, bytes: 1468 * 300, md5: md5.get('exact.bin') });
    expect(r.complete?.blocks).toBe(301);
  });

  it('an empty file', async () => {
    const r = await get(['--file', 'empty.bin']);
    expect(r).toMatchObject({ ok: true, bytes: 0, total: 0, writes: 0, md5: md5.get('empty.bin') });
  });

  it('33 MiB with blksize 512: more than 65535 blocks (rollover), intact, memory flat', async () => {
    const small = await get(['--file', 'small.bin', '--blksize', '512']);
    const r = await get(['--file', 'big.bin', '--blksize', '512']);
    expect(r).toMatchObject({ ok: true, bytes: 33 * 1024 * 1024, md5: md5.get('big.bin') });
    expect(r.complete?.blocks).toBeGreaterThan(65535);
    // Nothing is buffered: peak RSS does not grow with the 32 MiB more that went through.
    expect(r.maxRssKiB - small.maxRssKiB).toBeLessThan(16 * 1024);
  });

  it('windowsize 8 against the npm tftp server (RFC 7440)', async () => {
    const r = await get(['--port', '1069', '--file', 'medium.bin', '--windowsize', '8']);
    expect(r).toMatchObject({ ok: true, bytes: 8 * 1024 * 1024, md5: md5.get('medium.bin') });
    expect(r.negotiated).toMatchObject({ blksize: 1468, windowsize: 8 });
  });

  it('windowsize 16 against atftpd (RFC 7440, a real server): granted, intact', async () => {
    const r = await get(['--port', '4069', '--file', 'medium.bin', '--windowsize', '16']);
    expect(r, atftpd.output().slice(-2000)).toMatchObject({ ok: true, bytes: 8 * 1024 * 1024, md5: md5.get('medium.bin') });
    expect(r.negotiated).toMatchObject({ blksize: 1468, windowsize: 16 });
  });

  it('windowsize 8 with blksize 40 against atftpd: the block number wraps past 65535, intact', async () => {
    // atftpd sends its OACK in one block of the asked size: the options need about 35 bytes,
    // so blksize 8 is refused (plain RFC 1350 fallback); 40 without tsize fits.
    const r = await get(['--port', '4069', '--file', 'wrap40.bin', '--blksize', '40', '--windowsize', '8', '--no-tsize']);
    expect(r, atftpd.output().slice(-2000)).toMatchObject({ ok: true, bytes: 65_536 * 40 + 1001, md5: md5.get('wrap40.bin'), fallback: false });
    expect(r.negotiated).toMatchObject({ blksize: 40, windowsize: 8 });
    expect(r.complete?.blocks).toBeGreaterThan(65_536);
  });

  it('windowsize 8 to atftpd through a lossy, duplicating path: gaps answered, every byte intact', async () => {
    const relay = await startLossyRelay(net, srv, { address: SERVER, port: 6970, server: SERVER, serverPort: 4069, loss: 0.03, dup: 0.05, seed: 7440 });
    let stats;
    let r: GetResult;
    try {
      r = await get(['--port', '6970', '--file', 'lossy.bin', '--windowsize', '8', '--retries', '10']);
    } finally {
      stats = await relay.stop();
    }
    expect(r, JSON.stringify({ r, stats })).toMatchObject({ ok: true, bytes: 256 * 1024 + 77, md5: md5.get('lossy.bin') });
    expect(r.negotiated).toMatchObject({ windowsize: 8 });
    expect(stats.dropped).toBeGreaterThan(0);
    expect((r.complete?.gaps ?? 0) + (r.complete?.retransmits ?? 0)).toBeGreaterThan(0);
  });

  it('windowsize asked of tftpd-hpa, which does not know it: lockstep, intact', async () => {
    const r = await get(['--file', 'small.bin', '--windowsize', '8']);
    expect(r).toMatchObject({ ok: true, md5: md5.get('small.bin') });
    expect(r.negotiated).toMatchObject({ windowsize: 1 });
  });

  it('a slow sink (backpressure) still gets every byte in order', async () => {
    const r = await get(['--port', '1069', '--file', 'exact.bin', '--windowsize', '4', '--slow-sink-ms', '1']);
    expect(r).toMatchObject({ ok: true, md5: md5.get('exact.bin') });
  });

  it('missing file -> TFTP_FILE_NOT_FOUND with the server message', async () => {
    const r = await get(['--file', 'no-such-image.bin']);
    expect(r).toMatchObject({ ok: false, code: 'TFTP_FILE_NOT_FOUND', writes: 0 });
    expect(r.details).toMatchObject({ serverCode: 1 });
  });

  it('no server listening -> TFTP_TIMEOUT after the bounded retries', async () => {
    const r = await get(['--port', '7069', '--file', 'small.bin', '--timeout', '1', '--retries', '1']);
    expect(r).toMatchObject({ ok: false, code: 'TFTP_TIMEOUT', writes: 0 });
    expect(r.details).toMatchObject({ phase: 'requesting', tries: 2 });
  });

  it('tsize is reported before the first write', async () => {
    const r = await get(['--file', 'small.bin']);
    expect(r.order).toEqual(['size', 'write']);
  });

  it('throwing in onSize aborts before any byte reaches the sink, and tells the server (ERROR 3)', async () => {
    const [r, sent] = await fromClient('size', () => get(['--file', 'big.bin', '--max-size', '1000000']));
    expect(r).toMatchObject({ ok: false, code: 'SLOT_TOO_SMALL', writes: 0, bytesWritten: 0, order: ['size'] });
    const op = (b: Buffer): number => b.readUInt16BE(0);
    expect(sent.map(op)).toEqual([1, 5]); // RRQ, then ERROR instead of ACK 0: no data was ever requested
    expect(sent[1]?.readUInt16BE(2)).toBe(3);
    expect(sent[1]?.subarray(4).toString()).toContain('Disk full or allocation exceeded');
  });

  it('AbortSignal mid-transfer: TFTP_ABORTED, an ERROR goes to the server', async () => {
    const [r, sent] = await fromClient('abort', () => get(['--file', 'medium.bin', '--abort-after', '100000']));
    expect(r).toMatchObject({ ok: false, code: 'TFTP_ABORTED' });
    expect(r.bytesWritten).toBeGreaterThanOrEqual(100000);
    expect(r.bytesWritten).toBeLessThan(8 * 1024 * 1024);
    const last = sent.at(-1);
    expect(last?.readUInt16BE(0)).toBe(5);
    expect(last?.readUInt16BE(2)).toBe(0);
    expect(sent.filter((b) => b.readUInt16BE(0) === 5)).toHaveLength(1);
  });

  it('server that ignores every option (tftpd-hpa -r …): plain RFC 1350 fallback, logged, intact', async () => {
    const plain = await startTftpd(net, srv, { root, address: SERVER, port: 3069, extraArgs: ['-r', 'blksize', '-r', 'tsize', '-r', 'timeout'] });
    try {
      const r = await get(['--port', '3069', '--file', 'small.bin']);
      expect(r).toMatchObject({ ok: true, md5: md5.get('small.bin'), fallback: true, order: ['write'] });
      expect(r.total).toBeUndefined();
      expect(r.complete?.blocks).toBe(Math.floor((1024 * 1024 + 123) / 512) + 1);
    } finally {
      await plain.stop();
    }
  });

  it('through a lossy, duplicating, reordering path to tftpd-hpa: every byte intact', async () => {
    const relay = await startLossyRelay(net, srv, { address: SERVER, port: 6969, server: SERVER, loss: 0.03, dup: 0.05, seed: 20261123 });
    let stats;
    let r: GetResult;
    try {
      r = await get(['--port', '6969', '--file', 'lossy.bin', '--retries', '10']);
    } finally {
      stats = await relay.stop();
    }
    expect(r, JSON.stringify({ r, stats })).toMatchObject({ ok: true, bytes: 256 * 1024 + 77, md5: md5.get('lossy.bin') });
    // the path really lost and repeated packets, and the client really recovered
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.duplicated).toBeGreaterThan(0);
    expect(r.complete?.retransmits).toBeGreaterThan(0);
  });

  it('server killed mid-transfer -> TFTP_TIMEOUT, partial count reported, nothing hangs', async () => {
    const doomed = await startTftpd(net, srv, { root, address: SERVER, port: 2069 });
    try {
      const child = net.spawn(cli, [process.execPath, GET, '--server', SERVER, '--port', '2069', '--file', 'medium.bin', '--slow-sink-ms', '2', '--timeout', '1', '--retries', '2', '--progress-ms', '50']);
      const out = collectOutput(child);
      const exited = new Promise<number | null>((res) => child.once('exit', res));
      await waitFor(() => /"progress":[1-9]\d{5,}/.test(out.text()), 'transfer under way', 60_000);
      await doomed.stop();
      expect(await exited).toBe(0);
      const line = out.text().split('\n').find((l) => l.startsWith('{"ok"'));
      const r = JSON.parse(line ?? '{}') as GetResult;
      expect(r).toMatchObject({ ok: false, code: 'TFTP_TIMEOUT' });
      expect(r.details).toMatchObject({ phase: 'transferring', total: 8 * 1024 * 1024 });
      expect(Number(r.details?.bytes)).toBeGreaterThan(0);
      expect(Number(r.details?.bytes)).toBeLessThan(8 * 1024 * 1024);
      expect(r.bytesWritten).toBe(r.details?.bytes);
    } finally {
      await doomed.stop();
    }
  });
});
