/**
 * The agent's footprint and start-up, side by side for the shippable forms of make bundle
 * (dist/sea/<arch>: node + bundle with the device V8 flags, the same without flags, and the
 * single executable), against bare `node` and busybox udhcpc, in an upgrade lab (ISC dhcpd,
 * vsftpd in a namespace). Goals (issue 14), reported, not asserted:
 *   idle daemon RSS (bound, up to date)          ≤ bare `node` idle + 8 MiB
 *   peak RSS during a 256 MiB upgrade (FTP)      ≤ that form's idle + 16 MiB
 *   start-up to the first DISCOVER on the wire   ≤ 2.5 × `node -e 0`
 *   DISCOVER → BOUND, whole process              ≤ 2.5 × udhcpc (no ARP check on either side)
 * RSS is VmRSS (idle, 2 s after "up to date") and VmHWM (peak) from /proc, each form started
 * with its binaries evicted from the page cache; times are medians of RUNS rounds, each round
 * running every form, udhcpc and `node -e 0` once (interleaved: load hits them alike).
 * Needs `make bundle` first. Run: node scripts/bench/footprint.bench.ts [runs]
 * FOOTPRINT_FLAGS='--a;--b --c' adds node + bundle forms with those V8 flags;
 * FOOTPRINT_IDLE_ONLY=1 measures idle RSS only (for choosing flags).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { md5Hex, pseudoRandomImage, startUpgradeLab } from '../lab/upgrade-lab.ts';
import { DEVICE_GLIBC_TUNABLES } from '../v8-flags.ts';
import { waitFor } from '../lab/netns.ts';
import { readCapture } from '../../agent/pcap/reader.ts';
import { dhcpPackets } from '../../agent/pcap/dhcp.ts';
import { messageType } from '../../agent/dhcp/options.ts';
import { MessageType } from '../../agent/dhcp/message.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARCH = process.arch === 'arm64' ? 'arm64' : 'x64';
const SEA = join(ROOT, 'dist', 'sea', ARCH);
const RUNS = Number(process.argv[2] ?? 10);
const MiB = 1024 * 1024;
const VC = 'FS-0900E';
const SNMP_COMMUNITY = 'fp-bench-ro';
/** SNMP on vs off: interleaved pairs of the shipped form, and bulk walks before the second reading */
const SNMP_ROUNDS = Number(process.env.FOOTPRINT_SNMP_ROUNDS ?? 3);
const SNMP_WALKS = 500;
if (!existsSync(join(SEA, 'cpe-agent'))) throw new Error(`${SEA}/cpe-agent missing: run make bundle first`);
const FLAGS = (await readFile(join(SEA, 'cpe-agent.sh'), 'utf8')).match(/"\$here\/node" (.*) "\$here\/cpe-agent.cjs"/)?.[1] ?? '';

/** the forms compared: argv prefix of the agent */
const FORMS: { name: string; argv: string[] }[] = [
  { name: `node + bundle (${FLAGS})`, argv: [join(SEA, 'cpe-agent.sh')] },
  { name: 'node + bundle, no V8 flags', argv: [join(SEA, 'node'), join(SEA, 'cpe-agent.cjs')] },
  // as the rootfs supervisor starts it: with the daemon's glibc malloc setting (runtime-flags.ts)
  { name: 'single executable (SEA), as the rootfs runs it', argv: ['env', `GLIBC_TUNABLES=${DEVICE_GLIBC_TUNABLES}`, join(SEA, 'cpe-agent')] },
  { name: 'single executable, no malloc setting', argv: [join(SEA, 'cpe-agent')] },
  // FOOTPRINT_FLAGS='--lite-mode;--lite-mode --max-lazy': more node + bundle forms to compare
  ...(process.env.FOOTPRINT_FLAGS ?? '')
    .split(';')
    .filter((f) => f.trim())
    .map((f) => ({ name: `node + bundle (${f.trim()})`, argv: [join(SEA, 'node'), ...f.trim().split(/\s+/), join(SEA, 'cpe-agent.cjs')] })),
].filter((f) => !process.env.FOOTPRINT_ONLY_EXTRA || f.name.startsWith('node + bundle ('));
/** FOOTPRINT_IDLE_ONLY=1: idle RSS only (no upgrade, no timing): for choosing flags */
const IDLE_ONLY = Boolean(process.env.FOOTPRINT_IDLE_ONLY);

/**
 * The floor references: the Node built-ins the idle daemon loads for its own work (agent/daemon:
 * the DHCP socket, state files, `ip` children, the control socket, MD5/SHA-256 of the slots at
 * start), each used once, then idle; without node:crypto is what the daemon loads now (it
 * hashes in a `cpe-agent digest` child), with it what it would cost to hash in-process.
 */
const DAEMON_BUILTINS = ['events', 'path', 'util', 'fs', 'fs/promises', 'dgram', 'child_process', 'net'];
const FLOORS: { name: string; modules: string[] }[] = [
  { name: 'built-ins the daemon needs, without node:crypto', modules: DAEMON_BUILTINS },
  { name: 'built-ins the daemon needs (+ node:crypto)', modules: [...DAEMON_BUILTINS, 'crypto'] },
];
function floorScript(modules: string[], sock: string): string {
  return [
    `const m = ${JSON.stringify(modules)}.map((x) => require(x));`,
    `${JSON.stringify(modules)}.includes('crypto') && ['md5', 'sha256'].forEach((h) => require('crypto').createHash(h).update('x').digest('hex'));`,
    `require('dgram').createSocket('udp4').bind(0, '127.0.0.1');`,
    `require('net').createServer().listen(${JSON.stringify(sock)});`,
    `require('child_process').spawn('true', { stdio: 'ignore' });`,
    `require('fs/promises').readFile('/proc/self/status').then(() => setInterval(() => {}, 1000));`,
  ].join('\n');
}

interface Mem {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
}
async function mem(pid: number): Promise<Mem> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const nowMs = (): number => performance.timeOrigin + performance.now();
/**
 * Drops these files' pages from the page cache (fadvise DONTNEED via dd iflag=nocache) so every
 * form starts cold: file-backed RSS depends on the page-cache state of the binary (a freshly
 * written copy maps 12 MiB more of the same bytes than one read back from disk).
 */
async function uncache(files: string[]): Promise<void> {
  for (const f of files) {
    await new Promise((r) => spawn('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' }).once('exit', r));
  }
}
const BINARIES = [join(SEA, 'node'), join(SEA, 'cpe-agent'), join(SEA, 'cpe-agent.cjs')];

function timed(argv: string[]): Promise<{ start: number; ms: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) return reject(new Error('empty argv'));
    const start = nowMs();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ start, ms: nowMs() - start, code, stderr }));
  });
}

const factoryFile = `${VC}_FW_1_00_00_20260101.bin`;
const factory = pseudoRandomImage(7, 2 * MiB);
const bigFile = `${VC}_FW_1_01_00_20261201.bin`;
const big = pseudoRandomImage(8, 256 * MiB);
const ftp = { user: 'fpbench', password: 'Fp-bench-0414' };
const upToDate = { protocol: 'ftp' as const, server: '198.18.24.1', ...ftp, softwareFile: factoryFile, softwareMd5: md5Hex(factory), flags: 0, unknown: [] };
const upgrade = { ...upToDate, softwareFile: bigFile, softwareMd5: md5Hex(big) };
const lab = await startUpgradeLab({ prefix: 'cpfp', subnet: '198.18.24', classes: { [VC]: upToDate }, files: { [factoryFile]: factory, [bigFile]: big }, ftp, leaseSeconds: 600, clients: 2 });
const tmp = await mkdtemp(join(tmpdir(), 'cpfp-'));
const children = new Set<ChildProcess>();
try {
  const ns = lab.clientNs[0] ?? '';
  const inNs = (argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];
  await writeFile(join(tmp, factoryFile), factory);
  const flush = (where = ns): Promise<unknown> => lab.netns.exec(where, ['sh', '-c', 'ip addr flush dev wan0; ip route flush dev wan0']);

  /** a daemon of one form on a fresh state dir; resolves when `status` reports `want` */
  const daemon = async (form: { argv: string[] }, tag: string, want: string, snmpPort?: number, where = ns): Promise<{ child: ChildProcess; pid: number; stop: () => Promise<void> }> => {
    const dir = join(tmp, tag);
    await mkdir(dir, { recursive: true });
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ iface: 'wan0', vendorClass: VC, stateDir: join(dir, 'state'), log: { format: 'json', level: 'warn' }, platform: { backend: 'sim', sim: { dir: join(dir, 'sim'), slotCapacity: 300 * MiB, factoryImage: join(tmp, factoryFile) } }, net: { backend: 'ip', resolvConf: join(dir, 'resolv.conf') }, dhcp: { arpCheck: false }, ...(snmpPort ? { snmp: { listen: { address: '127.0.0.1', port: snmpPort }, community: { read: SNMP_COMMUNITY } } } : {}) }));
    await flush(where);
    const child = spawn('ip', ['netns', 'exec', where, ...form.argv, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.add(child);
    const pid = child.pid ?? 0;
    const status = async (): Promise<string> => {
      const r = spawn(form.argv[0] ?? '', [...form.argv.slice(1), 'status', '--json', '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      r.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((res) => r.once('exit', res));
      try {
        return (JSON.parse(out) as { state: string }).state;
      } catch {
        return '';
      }
    };
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`daemon exited (${child.exitCode}) before ${want}`);
      if ((await status()) === want) break;
      if (Date.now() > deadline) throw new Error(`daemon not ${want} within 180 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return {
      child,
      pid,
      stop: async () => {
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
        children.delete(child);
      },
    };
  };

  // reference: bare node idle and `node -e 0`
  await uncache(BINARIES);
  const bare = spawn(join(SEA, 'node'), ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.add(bare);
  await new Promise((r) => setTimeout(r, 2000));
  const bareMem = await mem(bare.pid ?? 0);
  bare.kill();
  children.delete(bare);

  // the floor: a bare node under the device flags that loads and uses only the Node built-ins the
  // idle daemon needs (what no agent code can go below), without and with node:crypto
  const floors: { name: string; mem: Mem }[] = [];
  for (const f of FLOORS) {
    await uncache(BINARIES);
    const script = join(tmp, `floor-${floors.length}.cjs`);
    await writeFile(script, floorScript(f.modules, join(tmp, `floor-${floors.length}.sock`)));
    const p = spawn(join(SEA, 'node'), [...FLAGS.split(/\s+/).filter(Boolean), script], { stdio: 'ignore' });
    children.add(p);
    await new Promise((r) => setTimeout(r, 2000));
    if (p.exitCode !== null) throw new Error(`floor ${f.name} exited (${p.exitCode})`);
    floors.push({ name: f.name, mem: await mem(p.pid ?? 0) });
    p.kill();
    children.delete(p);
  }
  if (IDLE_ONLY) for (const f of floors) process.stdout.write(`floor, ${f.name}: ${f.mem.rss.toFixed(1)} MiB (anon ${f.mem.anon.toFixed(1)}, file ${f.mem.file.toFixed(1)})\n`);

  // wire capture on the server's bridge for start-up → first DISCOVER
  const pcap = join(tmp, 'wire.pcap');
  const dump = lab.netns.spawn(lab.serverNs, ['/usr/bin/tcpdump', '-i', 'br0', '-U', '-n', '-w', pcap, 'udp port 67 or udp port 68']);
  let dumpErr = '';
  dump.stderr?.on('data', (d: Buffer) => (dumpErr += d.toString()));
  await waitFor(() => dumpErr.includes('listening on'), 'tcpdump to listen');

  const script = join(tmp, 'udhcpc.sh');
  await writeFile(script, `#!/bin/sh\ncase "$1" in bound|renew) ip addr add "$ip/$mask" dev "$interface" 2>/dev/null;; esac\nexit 0\n`);
  await chmod(script, 0o755);
  const nodeE0: number[] = [];
  const udhcpc: number[] = [];
  const starts: { form: string; start: number }[] = [];
  const rows: { form: string; argv: string[]; idle: Mem; peak: Mem; bound: number[]; upgradeS: number }[] = [];
  for (const form of FORMS) {
    await uncache(BINARIES);
    const idleD = await daemon(form, `idle-${rows.length}`, 'up-to-date');
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await mem(idleD.pid);
    await idleD.stop();
    if (IDLE_ONLY) {
      process.stdout.write(`${form.name}: idle ${idle.rss.toFixed(1)} MiB (anon ${idle.anon.toFixed(1)}, file ${idle.file.toFixed(1)}), bare node ${bareMem.rss.toFixed(1)} (anon ${bareMem.anon.toFixed(1)})\n`);
      continue;
    }
    await lab.setOffers({ [VC]: upgrade });
    const t0 = Date.now();
    const up = await daemon(form, `up-${rows.length}`, 'staged-awaiting-reboot');
    const upgradeS = (Date.now() - t0) / 1000;
    const peak = await mem(up.pid);
    await up.stop();
    await lab.setOffers({ [VC]: upToDate });
    rows.push({ form: form.name, argv: form.argv, idle, peak, bound: [], upgradeS });
  }
  // times: the forms, udhcpc and `node -e 0` interleaved in every round (load from other jobs
  // hits all of them alike)
  for (let i = 0; i < RUNS && !IDLE_ONLY; i++) {
    for (const r of rows) {
      await flush();
      const a = await timed(inNs([...r.argv, 'dhcp', '--iface', 'wan0', '--vendor-class', VC, '--once', '--no-arp-check', '--resolv-conf', join(tmp, 'resolv')]));
      if (a.code !== 0) throw new Error(`${r.form}: dhcp failed: ${a.stderr}`);
      r.bound.push(a.ms);
      starts.push({ form: r.form, start: a.start });
    }
    await flush();
    const b = await timed(inNs(['busybox', 'udhcpc', '-i', 'wan0', '-V', VC, '-q', '-n', '-f', '-t', '5', '-s', script]));
    if (b.code !== 0) throw new Error(`udhcpc failed: ${b.stderr}`);
    udhcpc.push(b.ms);
    nodeE0.push((await timed(inNs([join(SEA, 'node'), '-e', '0']))).ms);
  }
  // SNMP on vs off (the shipped form, the SEA): idle, then after SNMP_WALKS bulk walks (half our
  // subtree, half the system group) by snmpbulkwalk in the namespace; the off daemon idles meanwhile
  const snmpRows: { idleOn: number; idleOff: number; walkedOn: number; walkedOff: number; restOn: number; restOff: number }[] = [];
  const shipped = FORMS.find((f) => f.name.startsWith('single executable (SEA)'));
  for (let i = 0; i < SNMP_ROUNDS && shipped && !IDLE_ONLY; i++) {
    const port = 16100 + i;
    const on = await daemon(shipped, `snmp-on-${i}`, 'up-to-date', port);
    const off = await daemon(shipped, `snmp-off-${i}`, 'up-to-date', undefined, lab.clientNs[1]);
    await new Promise((r) => setTimeout(r, 2000));
    const [idleOn, idleOff] = [(await mem(on.pid)).rss, (await mem(off.pid)).rss];
    // the Net-SNMP tools keep their persistent files (cert_indexes) under the tmp dir, never in /var/lib/snmp
    const walk = (oid: string): string => `for i in $(seq ${SNMP_WALKS / 2}); do SNMP_PERSISTENT_DIR=${tmp} SNMPCONFPATH=${tmp} MIBS= snmpbulkwalk -v2c -c ${SNMP_COMMUNITY} -Cr25 -On 127.0.0.1:${port} ${oid} >/dev/null || exit 1; done`;
    const w = await lab.netns.exec(ns, ['sh', '-c', `${walk('1.3.6.1.4.1.32473.1.1')} && ${walk('1.3.6.1.2.1.1')}`], { allowFail: true });
    if (w.code !== 0) throw new Error(`snmp walks failed: ${w.stderr}`);
    await new Promise((r) => setTimeout(r, 2000));
    const [walkedOn, walkedOff] = [(await mem(on.pid)).rss, (await mem(off.pid)).rss];
    // at rest: V8's memory reducer collects and shrinks the heap some 8 s after the allocation stops
    await new Promise((r) => setTimeout(r, 12_000));
    const [restOn, restOff] = [(await mem(on.pid)).rss, (await mem(off.pid)).rss];
    await on.stop();
    await off.stop();
    snmpRows.push({ idleOn, idleOff, walkedOn, walkedOff, restOn, restOff });
  }
  await new Promise((r) => setTimeout(r, 300));
  dump.kill('SIGINT');
  await new Promise((r) => dump.once('exit', r));
  // (IDLE_ONLY: nothing more to report; the lab is stopped in finally either way)
  if (!IDLE_ONLY) {
    // first DISCOVER on the wire after each agent start
    const discovers: number[] = [];
    for (const p of dhcpPackets(readCapture(await readFile(pcap)).records)) {
      if (p.message && messageType(p.message) === MessageType.DISCOVER) discovers.push(p.time);
    }
    const firstDiscover = (form: string): number[] =>
      starts
        .filter((s) => s.form === form)
        .map((s) => (discovers.find((t) => t >= s.start) ?? NaN) - s.start)
        .filter((x) => Number.isFinite(x));

    const e0 = median(nodeE0);
    const u = median(udhcpc);
    const f1 = (n: number): string => n.toFixed(1);
    const out: string[] = [];
    out.push(`runs: ${RUNS}; ${ARCH}; bare node idle ${f1(bareMem.rss)} MiB (anon ${f1(bareMem.anon)}, file ${f1(bareMem.file)}); node -e 0 ${f1(e0)} ms; udhcpc DISCOVER→BOUND ${f1(u)} ms`);
    for (const f of floors) out.push(`floor, ${f.name}: ${f1(f.mem.rss)} MiB (anon ${f1(f.mem.anon)}, file ${f1(f.mem.file)}) = bare node + ${f1(f.mem.rss - bareMem.rss)}`);
    out.push(`${'form'.padEnd(60)} ${'idle MiB'.padStart(9)} ${'(anon/file)'.padStart(12)} ${'peak 256M'.padStart(10)} ${'→DISCOVER ms'.padStart(13)} ${'→BOUND ms'.padStart(10)} ${'upgrade s'.padStart(10)}`);
    for (const r of rows) {
      const d = median(firstDiscover(r.form));
      out.push(
        `${r.form.padEnd(60)} ${f1(r.idle.rss).padStart(9)} ${`${f1(r.idle.anon)}/${f1(r.idle.file)}`.padStart(12)} ${f1(r.peak.hwm).padStart(10)} ${f1(d).padStart(13)} ${f1(median(r.bound)).padStart(10)} ${f1(r.upgradeS).padStart(10)}`,
      );
      out.push(
        `  goals: idle ${f1(r.idle.rss - bareMem.rss)} MiB over bare node (≤ 8: ${r.idle.rss - bareMem.rss <= 8 ? 'met' : 'NOT met'}); ` +
          `peak ${f1(r.peak.hwm - r.idle.rss)} over idle (≤ 16: ${r.peak.hwm - r.idle.rss <= 16 ? 'met' : 'NOT met'}); ` +
          `start-up ${(d / e0).toFixed(2)}× node -e 0 (≤ 2.5: ${d / e0 <= 2.5 ? 'met' : 'NOT met'}); ` +
          `DISCOVER→BOUND ${(median(r.bound) / u).toFixed(2)}× udhcpc (≤ 2.5: ${median(r.bound) / u <= 2.5 ? 'met' : 'NOT met'})` +
          (floors[0] ? `; idle ${f1(r.idle.rss - floors[0].mem.rss)} MiB over the floor (its built-ins, no node:crypto)` : ''),
      );
    }
    if (snmpRows.length > 0) {
      const m = (k: 'idleOn' | 'idleOff' | 'walkedOn' | 'walkedOff' | 'restOn' | 'restOff'): number => median(snmpRows.map((r) => r[k]));
      const [dIdle, dWalked, dRest] = [m('idleOn') - m('idleOff'), m('walkedOn') - m('walkedOff'), m('restOn') - m('restOff')];
      out.push(
        `SNMP (single executable, median of ${snmpRows.length} interleaved pairs): idle on ${f1(m('idleOn'))} / off ${f1(m('idleOff'))} MiB (+${f1(dIdle)}: ≤ 4 ${dIdle <= 4 ? 'met' : 'NOT met'}); ` +
          `2 s after ${SNMP_WALKS} bulk walks on ${f1(m('walkedOn'))} / off ${f1(m('walkedOff'))} MiB (+${f1(dWalked)}: ≤ 4 ${dWalked <= 4 ? 'met' : 'NOT met'}); ` +
          `14 s after on ${f1(m('restOn'))} / off ${f1(m('restOff'))} MiB (+${f1(dRest)}: ≤ 4 ${dRest <= 4 ? 'met' : 'NOT met'})`,
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
  await lab.stop();
}
