/**
 * The FTP fetcher against a real vsftpd in a network namespace. Our client runs in a
 * second namespace (scripts/lab/ftp-get.ts, the password passed through the environment);
 * every log line it prints is captured and checked for the password at the end.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describeLab } from '../helpers/prereq.ts';
import { Netns, labTag, run, waitFor } from '../../scripts/lab/netns.ts';
import { startVsftpd, type Vsftpd } from '../../scripts/lab/vsftpd.ts';
import { openSimPlatform, slotPath } from '../../platform/sim/index.ts';

const FTP_GET = new URL('../../scripts/lab/ftp-get.ts', import.meta.url).pathname;
const SERVER = '198.18.48.1';
const CLIENT = '198.18.48.2';
const NO_HOST = '198.18.48.9';
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

interface GetResult {
  ok: boolean;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  bytes?: number;
  total?: number;
  md5?: string;
  sha256?: string;
  slot?: string;
}

describeLab('FTP fetcher against vsftpd', ['vsftpd', 'ss'], () => {
  const netns = new Netns();
  const tag = labTag();
  const S = `cpf-fs-${tag}`;
  const C = `cpf-fc-${tag}`;
  const user = `cpf${tag}`;
  const password = `Pw-${tag}-s3cr3t!`;
  const allLogs: string[] = [];
  let root: string;
  let work: string;
  let small: Buffer;
  let big: Buffer;
  let ftp: Vsftpd;
  let slow: Vsftpd;

  beforeAll(async () => {
    await netns.add(S);
    await netns.add(C);
    await netns.veth(S, 'fs0', C, 'fc0');
    await netns.addr(S, 'fs0', `${SERVER}/24`);
    await netns.addr(C, 'fc0', `${CLIENT}/24`);
    root = await mkdtemp(join(tmpdir(), 'cpf-ftproot-'));
    work = await mkdtemp(join(tmpdir(), 'cpf-ftpwork-'));
    await chmod(root, 0o755);
    small = randomBytes(1024 * 1024 + 17);
    big = randomBytes(6 * 1024 * 1024);
    await writeFile(join(root, 'small.bin'), small);
    await writeFile(join(root, 'big.bin'), big);
    ftp = await startVsftpd(netns, S, { root, address: SERVER, user, password, anonymous: true });
    // 2 MB/s per session: a 6 MiB transfer lasts ~3 s, time enough to break it on purpose.
    slow = await startVsftpd(netns, S, { root, address: SERVER, user, password, port: 2121, maxRate: 2_000_000, pasvPorts: [40200, 40399] });
  });

  afterAll(async () => {
    await slow?.stop();
    await ftp?.stop();
    await netns.destroy();
    if (root) await rm(root, { recursive: true, force: true });
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Runs ftp-get in the client namespace; resolves with its JSON result and stderr. */
  function get(args: string[], opts: { password?: string } = {}): { result: Promise<GetResult>; stderr: () => string } {
    const env = { ...process.env, CPF_FTP_PASSWORD: opts.password ?? password };
    const child = netns.spawn(C, [process.execPath, FTP_GET, '--server', SERVER, ...args], { env });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const stderr = { text: (): string => err };
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const result = new Promise<GetResult>((resolve, reject) => {
      child.once('exit', () => {
        allLogs.push(stderr.text());
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as GetResult);
        } catch {
          reject(new Error(`ftp-get printed no result; stdout=${stdout} stderr=${stderr.text()}`));
        }
      });
    });
    return { result, stderr: stderr.text };
  }

  /** Resolves once ftp-get logged progress past `bytes`. */
  async function progressPast(stderr: () => string, bytes: number): Promise<void> {
    await waitFor(() => {
      for (const l of stderr().split('\n')) {
        const m = /"bytes":(\d+),"total"/.exec(l);
        if (m && Number(m[1]) > bytes) return true;
      }
      return false;
    }, `progress past ${bytes} bytes`, 30_000);
  }

  it('downloads a file with the right MD5 and SHA-256 (passive, binary, SIZE)', async () => {
    const g = get(['--user', user, '--file', 'small.bin', '--sha256']);
    const r = await g.result;
    expect(r).toMatchObject({ ok: true, bytes: small.length, total: small.length, md5: md5(small) });
    expect(r.sha256).toBe(createHash('sha256').update(small).digest('hex'));
    const log = await ftp.readLog();
    expect(log).toMatch(/"SIZE small\.bin"/);
    expect(log).toMatch(/"TYPE I"/);
    expect(log).toMatch(/"EPSV"|"PASV"/);
  });

  it('logs in anonymously when no user is given', async () => {
    const r = await get(['--file', 'small.bin'], { password: '' }).result;
    expect(r).toMatchObject({ ok: true, md5: md5(small) });
    expect(await ftp.readLog()).toMatch(/"USER anonymous"/);
  });

  it('resumes with REST after the server drops the session mid-transfer', async () => {
    const g = get(['--port', '2121', '--user', user, '--file', 'big.bin', '--progress-ms', '50', '--retry-delay', '200']);
    await progressPast(g.stderr, 512 * 1024);
    expect(await slow.killSessions()).toBeGreaterThan(0);
    const r = await g.result;
    expect(r).toMatchObject({ ok: true, bytes: big.length, md5: md5(big) });
    expect(g.stderr()).toMatch(/resuming with REST [1-9]\d*/);
    expect(await slow.readLog()).toMatch(/"REST [1-9]\d*"/);
  });

  it('resumes after the data connection alone is reset (ss -K), the control connection surviving', async () => {
    const g = get(['--port', '2121', '--user', user, '--file', 'big.bin', '--progress-ms', '50', '--retry-delay', '200']);
    await progressPast(g.stderr, 512 * 1024);
    const k = await netns.exec(S, ['ss', '-K', '-tn', 'state', 'established', '( sport >= :40200 and sport <= :40399 )']);
    expect(k.stdout).toMatch(/40[23]\d\d/);
    const r = await g.result;
    expect(r).toMatchObject({ ok: true, bytes: big.length, md5: md5(big) });
    expect(g.stderr()).toMatch(/resuming with REST [1-9]\d*/);
  });

  it('resumes after the server stalls (idle timeout), and completes', async () => {
    const g = get(['--port', '2121', '--user', user, '--file', 'big.bin', '--progress-ms', '50', '--idle-timeout', '1500', '--retry-delay', '100']);
    await progressPast(g.stderr, 512 * 1024);
    const stalled = await slow.sessionPids();
    for (const p of stalled) process.kill(p, 'SIGSTOP');
    try {
      const r = await g.result;
      expect(r).toMatchObject({ ok: true, bytes: big.length, md5: md5(big) });
      expect(g.stderr()).toMatch(/\(timeout\); retrying/);
      expect(g.stderr()).toMatch(/resuming with REST [1-9]\d*/);
    } finally {
      for (const p of stalled) {
        try {
          process.kill(p, 'SIGKILL');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // already gone
        }
      }
    }
  });

  it('a server that freezes for good (sessions and listener stopped) → FTP_TIMEOUT after the resume budget', async () => {
    const frozen = await startVsftpd(netns, S, { root, address: SERVER, user, password, port: 2124, maxRate: 2_000_000, pasvPorts: [40500, 40599] });
    try {
      const g = get(['--port', '2124', '--user', user, '--file', 'big.bin', '--progress-ms', '50', '--idle-timeout', '1000', '--connect-timeout', '1000', '--resume-attempts', '2', '--retry-delay', '100']);
      await progressPast(g.stderr, 512 * 1024);
      for (const p of [frozen.pid, ...(await frozen.sessionPids())]) process.kill(p, 'SIGSTOP');
      const r = await g.result;
      expect(r).toMatchObject({ ok: false, code: 'FTP_TIMEOUT' });
      expect(r.details?.bytes).toBeGreaterThan(512 * 1024);
    } finally {
      await frozen.stop(); // SIGKILL works on stopped processes
    }
  });

  it('an abort through the signal ends the transfer with FTP_ABORTED and discards the staged slot', async () => {
    const sim = join(work, 'sim-abort');
    await openSimPlatform(sim, { capacity: 16 * 1024 * 1024 });
    const envBefore = await readFile(join(sim, 'bootenv.json'), 'utf8');
    const r = await get(['--port', '2121', '--user', user, '--file', 'big.bin', '--sim', sim, '--md5', md5(big), '--abort-after', String(1024 * 1024)]).result;
    expect(r).toMatchObject({ ok: false, code: 'FTP_ABORTED' });
    expect((await stat(slotPath(sim, 'B'))).size).toBe(0);
    expect(await readFile(join(sim, 'bootenv.json'), 'utf8')).toBe(envBefore);
  });

  it('wrong password → FTP_AUTH, and the message does not echo the password', async () => {
    const wrong = `Wrong-${tag}-pw`;
    const g = get(['--user', user, '--file', 'small.bin'], { password: wrong });
    const r = await g.result;
    expect(r).toMatchObject({ ok: false, code: 'FTP_AUTH' });
    expect(JSON.stringify(r)).not.toContain(wrong);
    expect(g.stderr()).toMatch(/ftp: fetching/); // the log of the refused login was captured
    expect(g.stderr()).not.toContain(wrong);
  });

  it('missing file → FTP_FILE_NOT_FOUND', async () => {
    const r = await get(['--user', user, '--file', 'no-such-image.bin']).result;
    expect(r).toMatchObject({ ok: false, code: 'FTP_FILE_NOT_FOUND' });
  });

  it('connection refused → FTP_UNREACHABLE', async () => {
    const r = await get(['--port', '2999', '--user', user, '--file', 'small.bin']).result;
    expect(r).toMatchObject({ ok: false, code: 'FTP_UNREACHABLE' });
    expect(r.details).toMatchObject({ cause: 'ECONNREFUSED' });
  });

  it('no host at the address → FTP_UNREACHABLE within the connect timeout', async () => {
    const child = netns.spawn(C, [process.execPath, FTP_GET, '--server', NO_HOST, '--file', 'x.bin', '--connect-timeout', '1000']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => allLogs.push(d.toString()));
    await new Promise((r) => child.once('exit', r));
    expect(JSON.parse(out.trim())).toMatchObject({ ok: false, code: 'FTP_UNREACHABLE' });
  });

  it('a server that accepts but never greets → FTP_UNREACHABLE after the connect timeout', async () => {
    const silent = netns.spawn(S, [process.execPath, '-e', `require('net').createServer(() => {}).listen(2223, '${SERVER}')`]);
    await waitFor(async () => (await netns.exec(S, ['ss', '-ltnH', 'sport = :2223'])).stdout.includes('2223'), 'silent listener');
    const r = await get(['--port', '2223', '--user', user, '--file', 'small.bin', '--connect-timeout', '1000']).result;
    silent.kill('SIGKILL');
    expect(r).toMatchObject({ ok: false, code: 'FTP_UNREACHABLE' });
    expect(r.message).toMatch(/timed out/);
  });

  it('server killed for good mid-transfer → typed error, nothing hangs, staged slot discarded, boot env untouched', async () => {
    const sim = join(work, 'sim-killed');
    await openSimPlatform(sim, { capacity: 16 * 1024 * 1024 });
    await writeFile(slotPath(sim, 'A'), 'running A');
    await writeFile(slotPath(sim, 'B'), 'old B');
    const envBefore = await readFile(join(sim, 'bootenv.json'), 'utf8');
    const doomed = await startVsftpd(netns, S, { root, address: SERVER, user, password, port: 2122, maxRate: 2_000_000, pasvPorts: [40400, 40499] });
    try {
      const g = get(['--port', '2122', '--user', user, '--file', 'big.bin', '--sim', sim, '--md5', md5(big), '--progress-ms', '50', '--resume-attempts', '2', '--retry-delay', '100']);
      await progressPast(g.stderr, 512 * 1024);
      await doomed.kill();
      const r = await g.result;
      expect(r).toMatchObject({ ok: false, code: 'FTP_CONNECTION_LOST' });
      expect(g.stderr()).toMatch(/attempt":2/);
      expect((await stat(slotPath(sim, 'B'))).size).toBe(0);
      expect(await readFile(slotPath(sim, 'A'), 'utf8')).toBe('running A');
      expect(await readFile(join(sim, 'bootenv.json'), 'utf8')).toBe(envBefore);
    } finally {
      await doomed.stop();
    }
  });

  it('a lab user left by a killed lab (its home dir gone) is adopted and deleted by stop(); a live lab\'s user is kept', async () => {
    const stale = `cpx${tag}`;
    const gone = join(tmpdir(), `cpf-gone-${tag}`);
    await run(['useradd', '-M', '-N', '-d', gone, '-s', '/bin/sh', stale]);
    try {
      const s = await startVsftpd(netns, S, { root, address: SERVER, user: stale, password, port: 2125, pasvPorts: [40600, 40699] });
      const home = (await run(['getent', 'passwd', stale])).stdout.split(':')[5];
      expect(home).toBe(root);
      await openSimPlatform(join(work, 'sim-stale'), { capacity: 16 * 1024 * 1024 });
      const r = await get(['--port', '2125', '--user', stale, '--file', 'small.bin', '--sim', join(work, 'sim-stale'), '--md5', md5(small)]).result;
      expect(r).toMatchObject({ ok: true, md5: md5(small) });
      await s.stop();
      expect((await run(['id', '-u', stale], { allowFail: true })).code).not.toBe(0);
    } finally {
      await run(['userdel', stale], { allowFail: true });
    }
    // the running labs' user (home = root, which exists) is reused by another vsftpd and survives its stop()
    const other = await startVsftpd(netns, S, { root, address: SERVER, user, password, port: 2126, pasvPorts: [40700, 40799] });
    await other.stop();
    expect((await run(['id', '-u', user], { allowFail: true })).code).toBe(0);
  });

  it('stages over FTP into the sim slot and switches the boot env', async () => {
    const sim = join(work, 'sim-ok');
    await openSimPlatform(sim, { capacity: 16 * 1024 * 1024 });
    const r = await get(['--user', user, '--file', 'small.bin', '--sim', sim, '--md5', md5(small)]).result;
    expect(r).toMatchObject({ ok: true, slot: 'B', bytes: small.length, md5: md5(small) });
    expect(md5(await readFile(slotPath(sim, 'B')))).toBe(md5(small));
    expect(JSON.parse(await readFile(join(sim, 'bootenv.json'), 'utf8'))).toMatchObject({ next: 'B', current: 'A', trial: true });
  });

  it('an image larger than the slot (FTP SIZE) is refused before the slot is touched', async () => {
    const sim = join(work, 'sim-small');
    await openSimPlatform(sim, { capacity: 1024 * 1024 });
    await writeFile(slotPath(sim, 'B'), 'old B');
    const mtime = (await stat(slotPath(sim, 'B'))).mtimeMs;
    const r = await get(['--user', user, '--file', 'small.bin', '--sim', sim, '--md5', md5(small)]).result;
    expect(r).toMatchObject({ ok: false, code: 'SLOT_TOO_SMALL' });
    expect(await readFile(slotPath(sim, 'B'), 'utf8')).toBe('old B');
    expect((await stat(slotPath(sim, 'B'))).mtimeMs).toBe(mtime);
  });

  it('the FTP password appears in no log line of any run (its own two runs included)', async () => {
    // self-contained: one accepted and one refused login here, whatever else ran before
    const wrong = `Refused-${tag}-pw`;
    expect(await get(['--user', user, '--file', 'small.bin']).result).toMatchObject({ ok: true, md5: md5(small) });
    expect(await get(['--user', user, '--file', 'small.bin'], { password: wrong }).result).toMatchObject({ ok: false, code: 'FTP_AUTH' });
    const logs = allLogs.join('\n');
    expect(logs).toMatch(/ftp: fetching/); // the capture really holds the agent's log
    expect(logs).toMatch(/ftp: done/); // of the accepted run too
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(wrong);
  });
});
