/**
 * make demo — the agent's main job, end to end, on the sim platform in a namespace lab:
 *
 *   ISC dhcpd (classes FS-0900E and ESH-3105, option 43 offers) + tftpd-hpa + vsftpd
 *   → `cpe-agent run --once`: DISCOVER → option 43 → download (progress) → MD5 on the
 *     stream → stage into slot B → verify read-back → boot env → activation:
 *       FS-0900E over TFTP, urgent:     DHCPRELEASE + reboot by itself
 *       ESH-3105 over FTP, not urgent:  daemon waits "staged, awaiting reboot"; the demo runs
 *                                        `cpe-agent reboot` (daemon releases, reboots)
 *   → the next start boots slot B, DHCP binds (healthy), status reports the new version/MD5.
 *   FS-0900E runs with policy.signature=require: its image is signed with `cpe-agent image
 *   sign` (key from `image keygen`); afterwards the DHCP server offers it an unsigned image
 *   with a matching MD5, which it refuses (slot A emptied, boot environment untouched).
 *
 * Prints a summary table; exit 0 only if both upgrades really happened (the new slot's
 * bytes are checked against the image file independently of the agent) and the unsigned
 * image was refused (running image, boot environment and emptied slot checked the same way).
 * Tears the lab down on success, failure and Ctrl-C. Addresses: 198.18.1.0/24; namespaces cpdemo-*.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labTag } from './lab/netns.ts';
import { md5Hex, pseudoRandomImage, startUpgradeLab, type UpgradeLab } from './lab/upgrade-lab.ts';
import type { Option43Offer } from '../agent/option43/types.ts';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const AGENT = join(ROOT, 'dist', 'cpe-agent');
const MiB = 1024 * 1024;
const SUBNET = '198.18.1';

interface Cpe {
  vendorClass: string;
  protocol: 'tftp' | 'ftp';
  urgent: boolean;
  factoryFile: string;
  factory: Uint8Array;
  newFile: string;
  image: Uint8Array;
  dir: string;
  ns: string;
  /** config file (policy.signature=require); omitted: defaults (signature off) */
  config?: string;
}

interface StatusJson {
  state: string;
  stateText: string;
  running: { slot: string; version: string | null; md5: string; signedAt?: string } | null;
  staged: { slot: string; version: string | null; md5: string } | null;
  lastError: { code: string; message: string } | null;
}

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string): void => void process.stdout.write(`\n${bold(`== ${s}`)}\n`);

const children = new Set<ChildProcess>();

/** Runs a command inside a namespace; stdout captured, stderr shown (logs, progress bar). */
function inNs(ns: string, argv: string[], opts: { capture?: boolean } = {}): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string }> } {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', opts.capture ? 'pipe' : 'inherit', 'inherit'] });
  children.add(child);
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, stdout });
    }),
  );
  return { child, done };
}

function agentArgs(c: Cpe, extra: string[] = []): string[] {
  return [
    AGENT,
    'run',
    '--iface',
    'wan0',
    '--vendor-class',
    c.vendorClass,
    '--platform',
    'sim',
    '--state-dir',
    join(c.dir, 'state'),
    '--sim-dir',
    join(c.dir, 'sim'),
    '--factory-image',
    join(c.dir, c.factoryFile),
    '--resolv-conf',
    join(c.dir, 'resolv.conf'),
    '--log-format',
    'text',
    ...(c.config ? ['--config', c.config] : []),
    ...extra,
  ];
}

async function status(c: Cpe): Promise<StatusJson> {
  const r = await inNs(c.ns, [AGENT, 'status', '--json', '--state-dir', join(c.dir, 'state')], { capture: true }).done;
  return JSON.parse(r.stdout) as StatusJson;
}

async function showStatus(c: Cpe): Promise<void> {
  await inNs(c.ns, [AGENT, 'status', '--state-dir', join(c.dir, 'state')]).done;
}

async function fileMd5(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function waitUntil(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const short = (md5: string | undefined | null): string => (md5 ? `${md5.slice(0, 8)}…` : '?');

/**
 * dhcpd records a DHCPRELEASE as a new entry for the address with `binding state free`
 * (without the vendor class): the CPE's address is found through its class's active entry.
 */
async function releasedInLeaseFile(lab: UpgradeLab, c: Cpe): Promise<boolean> {
  const leases = await lab.leases();
  const mine = leases.find((l) => l.vendorClass === c.vendorClass);
  if (!mine) return false;
  const last = leases.filter((l) => l.address === mine.address).at(-1);
  process.stdout.write(`dhcpd lease file: ${mine.address} ${leases.filter((l) => l.address === mine.address).map((l) => l.bindingState).join(' → ')}\n`);
  return last?.bindingState === 'free' || last?.bindingState === 'released';
}

interface Row {
  cpe: Cpe;
  /** refused: the agent had to refuse the offered image (nothing may change) */
  refused?: string;
  before: StatusJson;
  after: StatusJson;
  seconds: number;
  verified: boolean;
  released: boolean;
}

async function upgradeUrgent(lab: UpgradeLab, c: Cpe): Promise<Row> {
  say(`${c.vendorClass}: urgent offer over TFTP — the agent downloads, stages, releases its lease and reboots by itself`);
  const t0 = Date.now();
  const first = await inNs(c.ns, agentArgs(c, ['--once'])).done;
  if (first.code !== 0) throw new Error(`${c.vendorClass}: first run exited with ${first.code}`);
  const before = await status(c);
  const released = await releasedInLeaseFile(lab, c);
  say(`${c.vendorClass}: next start — the bootloader boots slot B on trial; DHCP binds → healthy`);
  const second = await inNs(c.ns, agentArgs(c, ['--once'])).done;
  if (second.code !== 0) throw new Error(`${c.vendorClass}: run after reboot exited with ${second.code}`);
  const after = await status(c);
  await showStatus(c);
  return { cpe: c, before, after, seconds: (Date.now() - t0) / 1000, verified: false, released };
}

async function upgradeWithReboot(lab: UpgradeLab, c: Cpe): Promise<Row> {
  say(`${c.vendorClass}: non-urgent offer over FTP — the daemon stages the image and waits for a reboot`);
  const t0 = Date.now();
  const daemon = inNs(c.ns, agentArgs(c));
  await waitUntil(`${c.vendorClass} staged`, async () => {
    if (!existsSync(join(c.dir, 'state', 'state.json'))) return false;
    return (await status(c).catch(() => undefined))?.state === 'staged-awaiting-reboot';
  }, 180_000);
  const before = await status(c);
  await showStatus(c);
  say(`${c.vendorClass}: user intervention — cpe-agent reboot`);
  const rb = await inNs(c.ns, [AGENT, 'reboot', '--state-dir', join(c.dir, 'state')]).done;
  if (rb.code !== 0) throw new Error(`reboot command exited with ${rb.code}`);
  const d = await daemon.done;
  if (d.code !== 0) throw new Error(`${c.vendorClass}: daemon exited with ${d.code}`);
  const released = await releasedInLeaseFile(lab, c);
  say(`${c.vendorClass}: next start — boots slot B, healthy once DHCP binds`);
  const second = await inNs(c.ns, agentArgs(c, ['--once'])).done;
  if (second.code !== 0) throw new Error(`${c.vendorClass}: run after reboot exited with ${second.code}`);
  const after = await status(c);
  await showStatus(c);
  return { cpe: c, before, after, seconds: (Date.now() - t0) / 1000, verified: false, released };
}

/**
 * The DHCP server now offers FS-0900E an unsigned image whose MD5 matches (what a rogue or
 * misconfigured server could do): the agent must refuse it, empty the inactive slot and leave
 * the boot environment alone. Checked here from the files, not from the agent's word.
 */
async function refuseUnsigned(lab: UpgradeLab, c: Cpe, others: Record<string, Option43Offer>, serverIp: string): Promise<Row> {
  const file = `${c.vendorClass}_FW_1_04_00_20261201.bin`;
  const image = pseudoRandomImage(4242, 2 * MiB);
  say(`${c.vendorClass}: the DHCP server now offers an unsigned image ${file} (its MD5 matches) — policy.signature=require must refuse it`);
  await lab.putFile(file, image);
  await lab.setOffers({ ...others, [c.vendorClass]: { protocol: 'tftp', server: serverIp, softwareFile: file, softwareMd5: md5Hex(image), flags: 1, urgent: true, unknown: [] } });
  const t0 = Date.now();
  const before = await status(c);
  const r = await inNs(c.ns, agentArgs(c, ['--once'])).done;
  const after = await status(c);
  await showStatus(c);
  const running = after.running;
  const inactive = running?.slot === 'B' ? 'A' : 'B';
  const inactiveSize = statSync(join(c.dir, 'sim', `slot-${inactive}.img`)).size;
  const env = JSON.parse(await readFile(join(c.dir, 'sim', 'bootenv.json'), 'utf8')) as { next: string; current: string };
  const slotMd5 = await fileMd5(join(c.dir, 'sim', `slot-${running?.slot ?? 'B'}.img`));
  const verified =
    r.code === 3 &&
    after.lastError?.code === 'IMAGE_UNSIGNED' &&
    running?.md5 === before.running?.md5 &&
    slotMd5 === md5Hex(c.image) &&
    inactiveSize === 0 &&
    env.next === running?.slot &&
    env.current === running.slot;
  process.stdout.write(
    `  exit ${r.code}, last error ${after.lastError?.code ?? '-'}; running slot ${running?.slot ?? '?'} md5 ${slotMd5} (the signed image); slot ${inactive} ${inactiveSize} bytes; boot env next=${env.next}\n`,
  );
  return { cpe: c, refused: after.lastError?.code ?? `exit ${r.code}`, before, after, seconds: (Date.now() - t0) / 1000, verified, released: false };
}

function table(rows: Row[]): string {
  const head = ['class', 'protocol', 'old version / MD5', 'new version / MD5', 'slot', 'release', 'signature', 'checked', 'time'];
  const body = rows.map((r) => [
    r.cpe.vendorClass,
    `${r.cpe.protocol}${r.cpe.urgent ? ' (urgent)' : ''}`,
    `${r.before.running?.version ?? '?'} / ${short(r.before.running?.md5)}`,
    r.refused ? `refused: ${r.refused}` : `${r.after.running?.version ?? '?'} / ${short(r.after.running?.md5)}`,
    `${r.before.running?.slot ?? '?'} → ${r.after.running?.slot ?? '?'}`,
    r.released ? 'yes' : 'no',
    r.refused ? 'none: refused' : r.after.running?.signedAt ? 'verified' : 'off',
    r.verified ? 'yes' : 'NO',
    `${r.seconds.toFixed(1)} s`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...body.map(line)].join('\n');
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('make demo needs root (network namespaces, dhcpd, tftpd, vsftpd)\n');
    return 2;
  }
  if (!existsSync(AGENT)) {
    process.stderr.write(`${AGENT} missing: run make build\n`);
    return 2;
  }
  const tag = labTag();
  const work = await mkdtemp(join(tmpdir(), 'cpdemo-'));
  let lab: UpgradeLab | undefined;
  let labStart: Promise<UpgradeLab> | undefined;
  let teardownP: Promise<void> | undefined;
  // One teardown, shared: the signal handler and the main flow's `finally` both await it, so
  // the process never exits half-way through removing the lab.
  const teardown = (): Promise<void> =>
    (teardownP ??= (async () => {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(
        [...children].map(async (c) => {
          if (c.exitCode !== null || c.signalCode !== null) return;
          const gone = new Promise((r) => c.once('exit', r));
          if ((await Promise.race([gone.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))])) === false) c.kill('SIGKILL');
        }),
      );
      // Interrupted while the lab was coming up: wait for it, then remove it.
      const l = lab ?? (await labStart?.catch(() => undefined));
      await l?.stop().catch((e: unknown) => process.stderr.write(`teardown: ${String(e)}\n`));
      await rm(work, { recursive: true, force: true });
    })());
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return; // a second Ctrl-C does not abort the teardown
    interrupted = true;
    process.stderr.write(`\n${sig}: tearing the lab down\n`);
    void teardown().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const ftp = { user: `fw${tag}`, password: `Dm-${createHash('sha256').update(tag).digest('hex').slice(0, 12)}` };
    const mk = async (vendorClass: string, protocol: 'tftp' | 'ftp', urgent: boolean, oldV: string, newV: string, seed: number, size: number): Promise<Cpe> => {
      const dir = join(work, vendorClass);
      const factoryFile = `${vendorClass}_FW_${oldV}_20250101.bin`;
      const factory = pseudoRandomImage(seed, size);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, factoryFile), factory);
      return { vendorClass, protocol, urgent, factoryFile, factory, newFile: `${vendorClass}_FW_${newV}_20261123.bin`, image: pseudoRandomImage(seed + 1000, size + 12345), dir, ns: '' };
    };
    const fs = await mk('FS-0900E', 'tftp', true, '1_02_00', '1_03_00', 1, 4 * MiB);
    const esh = await mk('ESH-3105', 'ftp', false, '1_01_00', '1_02_00', 2, 3 * MiB);
    say('FS-0900E runs with policy.signature=require: a vendor key, and its image signed with it');
    const vendorKey = join(work, 'vendor');
    const payload = join(work, 'fs-payload.bin');
    await writeFile(payload, fs.image);
    const signedFile = join(work, fs.newFile);
    const signCmd = ['sign', payload, '--key', `${vendorKey}.key`, '--fw-version', '1.3.0', '--model', fs.vendorClass, '--out', signedFile];
    // the ISP's tools: no namespace needed
    const hostTool = async (args: string[]): Promise<void> => {
      process.stdout.write(`$ cpe-agent image ${args.map((a) => a.replace(`${work}/`, '')).join(' ')}\n`);
      const child = spawn(AGENT, ['image', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      process.stdout.write(`${out.trimEnd().replace(/^/gm, '  ')}\n`);
      if (code !== 0) throw new Error(`cpe-agent image ${args[0] ?? ''} exited with ${code}`);
    };
    await hostTool(['keygen', '--out', vendorKey]);
    await hostTool(signCmd);
    fs.image = new Uint8Array(await readFile(signedFile));
    fs.config = join(fs.dir, 'config.json');
    const pub = (await readFile(`${vendorKey}.pub`, 'utf8')).trim();
    await writeFile(fs.config, JSON.stringify({ policy: { signature: 'require', trustedKeys: { manufacturer: [pub] } } }, null, 2));
    process.stdout.write(`  ${fs.vendorClass} config: {"policy":{"signature":"require","trustedKeys":{"manufacturer":["${pub}"]}}}\n`);
    const offer = (c: Cpe, server: string): Option43Offer => ({
      protocol: c.protocol,
      server,
      ...(c.protocol === 'ftp' ? { user: ftp.user, password: ftp.password } : {}),
      softwareFile: c.newFile,
      softwareMd5: md5Hex(c.image),
      flags: c.urgent ? 1 : 0,
      urgent: c.urgent,
      unknown: [],
    });
    say('lab: ISC dhcpd (classes FS-0900E, ESH-3105) + tftpd-hpa + vsftpd in one server namespace');
    const serverIp = `${SUBNET}.1`;
    labStart = startUpgradeLab({
      prefix: 'cpdemo',
      subnet: SUBNET,
      tag,
      clients: 2,
      classes: { [fs.vendorClass]: offer(fs, serverIp), [esh.vendorClass]: offer(esh, serverIp) },
      files: { [fs.newFile]: fs.image, [esh.newFile]: esh.image },
      ftp,
      leaseSeconds: 600,
    });
    lab = await labStart;
    if (interrupted) return 130;
    fs.ns = lab.clientNs[0] ?? '';
    esh.ns = lab.clientNs[1] ?? '';
    for (const c of [fs, esh]) {
      process.stdout.write(`  ${c.vendorClass.padEnd(9)} ${c.protocol.padEnd(4)} ${c.newFile}  ${c.image.length} bytes  md5 ${md5Hex(c.image)}  urgent=${c.urgent ? 1 : 0}\n`);
    }
    process.stdout.write(`  server ${serverIp} (namespace ${lab.serverNs}); CPEs in ${fs.ns}, ${esh.ns}\n`);

    const rows = [await upgradeUrgent(lab, fs), await upgradeWithReboot(lab, esh)];
    rows.push(await refuseUnsigned(lab, fs, { [esh.vendorClass]: offer(esh, serverIp) }, serverIp));

    say('independent check: slot B bytes vs the served image file');
    for (const r of rows) {
      if (r.refused) continue; // checked by refuseUnsigned()
      const slotMd5 = await fileMd5(join(r.cpe.dir, 'sim', `slot-${r.after.running?.slot ?? 'B'}.img`));
      const want = md5Hex(r.cpe.image);
      r.verified =
        slotMd5 === want &&
        r.after.running?.md5 === want &&
        r.after.running.slot === 'B' &&
        r.before.running?.md5 === md5Hex(r.cpe.factory) &&
        r.after.running.version === r.cpe.newFile.split('_FW_')[1]?.split('_').slice(0, 3).map(Number).join('.');
      process.stdout.write(`  ${r.cpe.vendorClass}: slot ${r.after.running?.slot ?? '?'} md5 ${slotMd5} ${slotMd5 === want ? '=' : '≠'} image ${want}\n`);
    }
    say('summary');
    process.stdout.write(table(rows) + '\n');
    const ok = rows.every((r) => r.verified && (r.released || r.refused !== undefined));
    process.stdout.write(`\n${ok ? 'demo OK: both CPEs upgraded and verified (FS-0900E signed); the unsigned image was refused' : 'demo FAILED: see the table'}\n`);
    return ok ? 0 : 1;
  } catch (e) {
    if (!interrupted) process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return interrupted ? 130 : 1;
  } finally {
    await teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo: ${String(e)}\n`);
    process.exit(1);
  },
);
