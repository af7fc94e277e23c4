/**
 * The footprint figures of footprint.bench.ts (issue 14 §2), measured inside the QEMU modem (arm64
 * guest under TCG, one vCPU on a 2-core host that is shared: slow and noisy). No goal is asserted:
 * these numbers set the next one. Opt-in like qemu.bench.ts (QEMU_BENCH=1 make bench, or
 * `node scripts/bench/run.ts qemu`). One run, one guest, the shipped firmware (scripts/qemu/modem.ts:
 * slot A = `make firmware` v1.0.0, the board config from the image, no site.json):
 *   1. idle daemon RSS: the daemon init started (the SEA, device V8 flags), bound and up to date
 *      (option 43 offers the running image), 2 s after its "decision: nothing (UP_TO_DATE)" line,
 *      vs bare `node` idle (`node -e 'setInterval(…)'`, 2 s after its script ran), both from
 *      /proc/PID/status;
 *   2. peak RSS during an upgrade: the same daemon, offered a signed pseudo-random image of
 *      QEMU_FP_MB MiB (default 64: the slot is 128 MiB, x64 uses 256) over FTP at its next renewal
 *      (lease 30 s), not urgent: VmHWM once "staged and verified", vs its idle VmRSS;
 *   3. start-up to the first DISCOVER on the wire: `cpe-agent dhcp --once` started from the serial
 *      shell vs `node -e 0` there;
 *   4. DISCOVER→BOUND, whole process: `cpe-agent dhcp --once --no-arp-check` vs busybox
 *      `udhcpc -q -n -f` (no ARP check either), start → exit.
 * Then init's supervisor is taken out of /etc/inittab (busybox init re-reads it on SIGHUP and does
 * not respawn a removed entry) and stopped, so no daemon runs during the timed rounds.
 * Bare node: the same Node 24 arm64 binary the SEA is made of (dist/sea/arm64/node), delivered for
 * the bench only as a second, read-only virtio disk (raw, PCI slot 0x1f so it is /dev/vdb) and
 * copied into a tmpfs in the guest (/mnt/fp): like the SEA, which lives in the initramfs root (a
 * tmpfs too), its mapped pages then count as RssShmem, so VmRSS = RssAnon + RssFile + RssShmem
 * compares like for like. The shipped firmware does not carry it.
 * Times: every command runs from the serial shell between two `echo` markers; a marker's time is
 * when it arrives on the host (host clock, the console's data event), so start → end is the
 * guest's time plus one console write at each end (they cancel); DISCOVER times are tcpdump's on
 * the lab's tap (host clock too): start → DISCOVER = the DISCOVER's capture time − the start
 * marker's arrival (it leaves out the one console write of the start marker, < 1 ms on the host
 * side). Medians of RUNS rounds (default 5), each round running the agent, udhcpc and
 * `node -e 0` once, interleaved. Needs root. Run: node scripts/bench/qemu-footprint.bench.ts [runs]
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { killAllQemu } from '../qemu/console.ts';
import { startQemuLab, randomMac, type QemuLab } from '../qemu/lab.ts';
import { buildFirmware, ensureArm64Bundle, guestShell, makeDisk, signLabImage, startModem, VENDOR_CLASS, type Modem } from '../qemu/modem.ts';
import { md5Hex, pseudoRandomImage } from '../lab/upgrade-lab.ts';
import { readCapture } from '../../agent/pcap/reader.ts';
import { dhcpPackets } from '../../agent/pcap/dhcp.ts';
import { messageType } from '../../agent/dhcp/options.ts';
import { MessageType } from '../../agent/dhcp/message.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, '.lab/qemu/fp-bench');
const MiB = 1024 * 1024;
const SERVER = '198.18.96.1';
const RUNS = Number(process.argv[2] ?? 5);
const IMAGE_MB = Number(process.env.QEMU_FP_MB ?? 64);
const NODE = join(ROOT, 'dist/sea/arm64/node');
const FTP = { user: 'cpqfp', password: 'lab-pass-fp' };

mkdirSync(DIR, { recursive: true });

const nowMs = (): number => performance.timeOrigin + performance.now();
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};
const f1 = (n: number): string => n.toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Mem {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
  shmem: number;
}
function parseMem(status: string): Mem {
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s*(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  const m = { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
  if (!Object.values(m).every(Number.isFinite)) throw new Error(`no memory figures in the guest's answer (process gone?): ${status}`);
  return m;
}
const memText = (m: Mem): string => `${f1(m.rss)} (${f1(m.anon)} / ${f1(m.file)} / ${f1(m.shmem)})`;

/**
 * The console with arrival times: every chunk's host time, so a marker's time is when its chunk
 * arrived. `mark(re)` finds the next match after the previous one (the typed command's echo never
 * matches: markers are `@@NAME.$((1))@@` typed, `@@NAME.1@@` printed).
 */
function consoleClock(m: Modem): { mark(label: string, timeoutMs: number): Promise<{ time: number; rest: string }> } {
  const dec = new StringDecoder('utf8');
  let text = '';
  const chunks: { end: number; time: number }[] = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  m.stream.on('data', (d: Buffer) => {
    const t = nowMs();
    text += dec.write(d);
    chunks.push({ end: text.length, time: t });
    for (const w of [...waiters]) w();
  });
  return {
    mark(label, timeoutMs) {
      const re = new RegExp(`@@${label}\\.1@@([^\\n]*)\\n`, 'g');
      return new Promise((resolve, reject) => {
        const check = (): void => {
          re.lastIndex = cursor;
          const r = re.exec(text);
          if (!r) return;
          // the chunk holding the marker's last '@'
          const at = r.index + label.length + 6;
          const c = chunks.find((x) => x.end >= at);
          cursor = r.index + r[0].length;
          waiters.delete(check);
          clearTimeout(timer);
          resolve({ time: c?.time ?? NaN, rest: (r[1] ?? '').trim() });
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for marker ${label}; console tail:\n${text.slice(-1500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const STATUS_KEYS = 'grep -E "^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem)"';

async function main(): Promise<void> {
  process.stdout.write('building the firmware (make firmware VERSION=1.0.0), the factory disk and the upgrade image…\n');
  await ensureArm64Bundle();
  const v1 = await buildFirmware('1.0.0', join(DIR, 'fw'));
  const disk = await makeDisk(DIR, v1);
  const payload = join(DIR, 'payload.bin');
  writeFileSync(payload, pseudoRandomImage(9, IMAGE_MB * MiB));
  const image = join(DIR, 'fp.img');
  await signLabImage(payload, image, '2.0.0', 300_000);
  rmSync(payload, { force: true });
  const imageData = readFileSync(image);
  // the bench-only node: a raw disk holding the binary, padded to whole sectors
  const nodeSize = statSync(NODE).size;
  const nodeDisk = join(DIR, 'node.raw');
  copyFileSync(NODE, nodeDisk);
  truncateSync(nodeDisk, Math.ceil(nodeSize / 512) * 512);
  const upToDate = { protocol: 'ftp' as const, server: SERVER, ...FTP, softwareFile: v1.name, softwareMd5: v1.md5, flags: 0, urgent: false, unknown: [] };
  const upgrade = { ...upToDate, softwareFile: 'fp.img', softwareMd5: md5Hex(imageData) };

  const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadStart = loadavg();
  let lab: QemuLab | undefined;
  let q: Modem | undefined;
  try {
    lab = await startQemuLab({ classes: { [VENDOR_CLASS]: upToDate }, ftp: FTP, files: { 'fp.img': imageData }, leaseSeconds: 30 });
    q = startModem({
      lab,
      disk,
      log: join(DIR, 'console.log'),
      timeoutMs: 1_800_000,
      mac: randomMac(),
      extraArgs: ['-drive', `if=none,id=fpnode,format=raw,readonly=on,file=${nodeDisk}`, '-device', 'virtio-blk-pci,drive=fpnode,addr=0x1f'],
    });
    const clock = consoleClock(q);

    // 1. the daemon, bound and up to date
    await q.line(/decision: nothing \(UP_TO_DATE\)/, 300_000);
    const bootS = q.elapsed() / 1000;
    await sleep(2000);
    const idle = parseMem(await guestShell(q, `${STATUS_KEYS} /proc/$(pidof cpe-agent)/status`, 60_000));
    process.stdout.write(`QEMU start → up to date ${f1(bootS)} s; daemon idle ${memText(idle)} MiB\n`);

    // 2. an upgrade offered at its next renewal; the peak once staged
    await lab.setOffers({ [VENDOR_CLASS]: upgrade });
    await q.line(/stage: \S+ → slot B/, 120_000);
    const u0 = nowMs();
    const staged = await q.line(/staged and verified.*?elapsedMs=(\d+)/, 1_200_000);
    const upgradeS = (nowMs() - u0) / 1000;
    const peak = parseMem(await guestShell(q, `${STATUS_KEYS} /proc/$(pidof cpe-agent)/status`, 60_000));
    process.stdout.write(`staged ${IMAGE_MB} MiB (agent elapsedMs ${staged[1] ?? '?'}); daemon after: ${memText(peak)} MiB, VmHWM ${f1(peak.hwm)}\n`);

    // no daemon from here on: the supervisor's inittab line removed, init told, the supervisor stopped
    const stopped = await guestShell(
      q,
      `sed -i '/cpe-agent-supervise/d' /etc/inittab && kill -HUP 1 && sleep 1 && killall -TERM cpe-agent-supervise; i=0; while pidof cpe-agent >/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done; echo "agent-pids:$(pidof cpe-agent)"`,
      120_000,
    );
    if (!/agent-pids:\s*$/m.test(stopped)) throw new Error(`the daemon did not stop: ${stopped}`);
    await sleep(6000);
    const still = await guestShell(q, 'echo "agent-pids:$(pidof cpe-agent)"', 30_000);
    if (!/agent-pids:\s*$/m.test(still)) throw new Error(`init restarted the daemon: ${still}`);

    // bare node, copied into a tmpfs of its own (the initramfs root, also tmpfs, is capped at
    // about half the guest's RAM and holds 111 MiB already: the 98 MiB binary does not fit there)
    const copied = await guestShell(q, `mkdir -p /mnt/fp && mount -t tmpfs -o size=112m,mode=0755 tmpfs /mnt/fp && head -c ${nodeSize} /dev/vdb > /mnt/fp/node && chmod 755 /mnt/fp/node && /mnt/fp/node --version`, 300_000);
    if (!/v24\.\d+\.\d+/.test(copied)) throw new Error(`bare node does not run in the guest: ${copied}`);
    // 2 s after its script ran (under TCG its start-up alone takes longer than that)
    const bare = parseMem(
      await guestShell(q, `rm -f /tmp/fp.up; /mnt/fp/node -e 'require("fs").writeFileSync("/tmp/fp.up", ""); setInterval(function () {}, 1000)' & p=$!; while [ ! -e /tmp/fp.up ]; do sleep 0.1; done; sleep 2; ${STATUS_KEYS} /proc/$p/status; kill $p`, 120_000),
    );
    process.stdout.write(`bare node ${copied.trim()} idle ${memText(bare)} MiB\n`);

    // the timed rounds, with the tap captured
    const pcap = join(DIR, 'wire.pcap');
    const cap = await lab.tcpdump(pcap, 'udp port 67 or udp port 68');
    await guestShell(q, `printf '#!/bin/sh\\ncase "$1" in bound|renew) ip addr add "$ip/$mask" dev "$interface";; esac\\nexit 0\\n' > /tmp/fp-udhcpc.sh && chmod 755 /tmp/fp-udhcpc.sh`, 30_000);
    const flush = 'ip addr flush dev eth0; ip route flush dev eth0 2>/dev/null';
    /** one command between markers; host times of both markers and its exit code */
    const m = q;
    const timed = async (label: string, cmd: string, timeoutMs: number): Promise<{ start: number; ms: number }> => {
      m.send(`${flush}; echo @@${label}-0.$((1))@@; ${cmd}; rc=$?; echo "@@${label}-1.$((1))@@ rc=$rc"`);
      const a = await clock.mark(`${label}-0`, timeoutMs);
      const b = await clock.mark(`${label}-1`, timeoutMs);
      if (b.rest !== 'rc=0') throw new Error(`${label}: ${cmd} failed (${b.rest})`);
      return { start: a.time, ms: b.time - a.time };
    };
    const agent: { start: number; ms: number }[] = [];
    const udhcpc: { start: number; ms: number }[] = [];
    const nodeE0: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      agent.push(await timed(`A${i}`, `cpe-agent dhcp --iface eth0 --vendor-class ${VENDOR_CLASS} --once --no-arp-check --resolv-conf /tmp/fp.resolv >/dev/null 2>/tmp/fp.err`, 300_000));
      udhcpc.push(await timed(`U${i}`, `udhcpc -i eth0 -V ${VENDOR_CLASS} -q -n -f -t 5 -s /tmp/fp-udhcpc.sh >/dev/null 2>&1`, 120_000));
      nodeE0.push((await timed(`N${i}`, '/mnt/fp/node -e 0', 120_000)).ms);
      process.stdout.write(`round ${i + 1}: agent ${f1(agent[i]?.ms ?? NaN)} ms, udhcpc ${f1(udhcpc[i]?.ms ?? NaN)} ms, node -e 0 ${f1(nodeE0[i] ?? NaN)} ms\n`);
    }
    await sleep(500);
    await cap.stop();
    const discovers: number[] = [];
    for (const p of dhcpPackets(readCapture(readFileSync(pcap)).records)) {
      if (p.message && messageType(p.message) === MessageType.DISCOVER) discovers.push(p.time);
    }
    const toDiscover = (runs: { start: number }[]): number[] =>
      runs.map((r) => (discovers.find((t) => t >= r.start) ?? NaN) - r.start).filter((x) => Number.isFinite(x));
    const agentD = median(toDiscover(agent));
    const udhcpcD = median(toDiscover(udhcpc));
    const e0 = median(nodeE0);
    const aB = median(agent.map((r) => r.ms));
    const uB = median(udhcpc.map((r) => r.ms));
    process.stdout.write(
      [
        '',
        `QEMU modem, shipped firmware ${v1.name} (arm64 guest, TCG, 1 vCPU); ${RUNS} rounds (medians); host load average ${loadStart} at the start, ${loadavg()} at the end; QEMU start → daemon up to date ${f1(bootS)} s`,
        `RSS in MiB as VmRSS (RssAnon / RssFile / RssShmem); both binaries run from a tmpfs (the SEA from the initramfs root, node from /mnt/fp), so their text is RssShmem on both sides`,
        `| figure | agent (SEA, device flags) | reference | agent − ref / ratio |`,
        '|---|---|---|---|',
        `| idle RSS: daemon bound + up to date vs bare \`node\` idle | ${memText(idle)} | ${memText(bare)} | +${f1(idle.rss - bare.rss)} MiB (anon +${f1(idle.anon - bare.anon)}) |`,
        `| peak RSS: VmHWM after a ${IMAGE_MB} MiB FTP upgrade (staged in ${f1(upgradeS)} s) vs the daemon's idle VmRSS | ${f1(peak.hwm)} (VmHWM when idle ${f1(idle.hwm)}) | ${f1(idle.rss)} | +${f1(peak.hwm - idle.rss)} MiB |`,
        `| start-up → first DISCOVER on the wire vs \`node -e 0\` | ${f1(agentD)} ms | ${f1(e0)} ms | ${(agentD / e0).toFixed(2)}× |`,
        `| DISCOVER→BOUND, whole process, vs busybox \`udhcpc -q -n -f\` | ${f1(aB)} ms | ${f1(uB)} ms | ${(aB / uB).toFixed(2)}× |`,
        `(udhcpc start → first DISCOVER ${f1(udhcpcD)} ms; agent rounds ${agent.map((r) => f1(r.ms)).join(', ')}; udhcpc ${udhcpc.map((r) => f1(r.ms)).join(', ')}; node -e 0 ${nodeE0.map(f1).join(', ')})`,
        '',
      ].join('\n'),
    );
  } finally {
    await q?.kill();
    await killAllQemu();
    await lab?.stop();
    for (const f of [nodeDisk, image, join(DIR, 'wire.pcap')]) rmSync(f, { force: true });
  }
}

// ^C / kill: power the guest off, so main's finally removes the lab
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void killAllQemu());
await main();
