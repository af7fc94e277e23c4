/**
 * The agent inside the QEMU modem (arm64 guest under TCG, 2 vCPU-less cores of the host: slow,
 * and shared), issue 10 "Benchmarks". Opt-in: `make bench` runs it only with QEMU_BENCH=1
 * (scripts/bench/run.ts), it takes several minutes. One run, one guest:
 *   1. QEMU start → the agent's "lease bound" on the console (U-Boot, kernel, rcS, agent start, DHCP
 *      with ISC dhcpd in the lab namespace over a tap)
 *   2. the agent's download + write + verify of a signed 32 MiB image (option 43, TFTP, not
 *      urgent: it stages into slot B and waits): the agent's own stage elapsedMs, and the
 *      console time from its "stage:" line to "staged and verified"
 *   3. the same job by busybox in the same guest, from the serial shell, timed with
 *      /proc/uptime: tftp (the agent's blksize: the board config's tftp.blksize) to RAM + md5sum + dd to /dev/vda3
 *      (conv=fsync) + read-back md5sum of the slot → ratio agent / busybox
 *   4. the agent's RSS in the guest (VmRSS, RssAnon, RssFile + RssShmem, VmHWM from /proc/PID/status),
 *      idle after staging (the SEA lives in the initramfs: its mapped pages count as RssShmem)
 * The modem is the shipped firmware (scripts/qemu/modem.ts): slot A = `make firmware` v1.0.0
 * (scripts/qemu/firmware.sh: the board rootfs with the agent's SEA under the device V8 flags,
 * the board config from the image, no site.json), the agent's state on the data partition p4;
 * the offered image is a pseudo-random payload signed as version 2.0.0. Needs root.
 * Run: QEMU_BENCH=1 make bench, or node scripts/bench/run.ts qemu, or node scripts/bench/qemu.bench.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllQemu, type QemuConsole } from '../qemu/console.ts';
import { startQemuLab, randomMac, type QemuLab } from '../qemu/lab.ts';
import { BOARD_DIR, buildFirmware, ensureArm64Bundle, guestShell, makeDisk, signLabImage, startModem, VENDOR_CLASS } from '../qemu/modem.ts';
import { pseudoRandomImage } from '../lab/upgrade-lab.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, '.lab/qemu/bench');
const MiB = 1024 * 1024;
const SERVER = '198.18.96.1';
const IMAGE_MB = Number(process.env.QEMU_BENCH_MB ?? 32);

mkdirSync(DIR, { recursive: true });

const t = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Signs the payload as firmware.sh does; returns the file's MD5. */
async function signImage(payload: string, out: string, version: string): Promise<string> {
  await signLabImage(payload, out, version, 120_000);
  return createHash('md5').update(readFileSync(out)).digest('hex');
}

async function main(): Promise<void> {
  process.stdout.write('building the firmware (make firmware VERSION=1.0.0) and the factory disk…\n');
  await ensureArm64Bundle();
  const v1 = await buildFirmware('1.0.0', join(DIR, 'fw'));
  const disk = await makeDisk(DIR, v1);
  const payload = join(DIR, 'payload.bin');
  writeFileSync(payload, pseudoRandomImage(7, IMAGE_MB * MiB));
  const image = join(DIR, 'bench.img');
  const md5 = await signImage(payload, image, '2.0.0');
  const size = statSync(image).size;
  // busybox gets the agent's TFTP block size (the board config's tftp.blksize; the agent's default 1468)
  const board = JSON.parse(readFileSync(join(BOARD_DIR, 'cpe-agent.json'), 'utf8')) as { tftp?: { blksize?: number } };
  const blksize = board.tftp?.blksize ?? 1468;

  let lab: QemuLab | undefined;
  let q: QemuConsole | undefined;
  try {
    lab = await startQemuLab({
      classes: { [VENDOR_CLASS]: { protocol: 'tftp', server: SERVER, softwareFile: 'bench.img', softwareMd5: md5, flags: 0, urgent: false, unknown: [] } },
      ftp: { user: 'cpqbench', password: 'lab-pass-bench' },
      files: { 'bench.img': readFileSync(image) },
    });
    q = startModem({ lab, disk, log: join(DIR, 'bench.console'), timeoutMs: 1_800_000, mac: randomMac() });
    await q.waitFor(/lease bound/, 300_000);
    const bound = q.elapsed();
    process.stdout.write(`QEMU start → BOUND: ${t(bound)}\n`);
    await q.waitFor(/stage: \S+ → slot B/, 120_000);
    const stageStart = q.elapsed();
    // to the end of the line: a console chunk may end inside it (even inside the number)
    const staged = await q.waitFor(/staged and verified[^\n]*?elapsedMs=(\d+)\r?\n/, 1_200_000);
    const stageEnd = q.elapsed();
    const agentMs = Number(staged[1]);
    process.stdout.write(`agent staged: ${staged[0].trim().slice(0, 200)}\n`);
    await new Promise((r) => setTimeout(r, 3000)); // idle after staging
    const status = await guestShell(q, 'grep -E "^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem)" /proc/$(pidof cpe-agent | cut -d" " -f1)/status', 60_000);
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s*(\\d+)`).exec(status)?.[1] ?? NaN);
    const bb = await guestShell(
      q,
      `t0=$(cut -d' ' -f1 /proc/uptime); tftp -g -b ${blksize} -r bench.img -l /tmp/bb.img ${SERVER} && md5sum /tmp/bb.img && dd if=/tmp/bb.img of=/dev/vda3 bs=1M conv=fsync 2>/dev/null && head -c ${size} /dev/vda3 | md5sum; t1=$(cut -d' ' -f1 /proc/uptime); rm -f /tmp/bb.img; echo "bb-seconds $t0 $t1"`,
      1_200_000,
    );
    const [, b0, b1] = /bb-seconds (\S+) (\S+)/.exec(bb) ?? [];
    const bbMs = (Number(b1) - Number(b0)) * 1000;
    const sums = bb.match(/[0-9a-f]{32}/g) ?? [];
    if (sums.length < 2 || sums.some((s) => s !== md5)) throw new Error(`busybox run did not verify: ${bb}`);
    const agentConsoleMs = stageEnd - stageStart;
    process.stdout.write(
      [
        '',
        `| QEMU modem, shipped firmware ${v1.name} (arm64 guest, TCG), ${IMAGE_MB} MiB signed image over TFTP | value |`,
        '|---|---|',
        `| QEMU start → BOUND (U-Boot, kernel, rcS, agent, DHCP) | ${t(bound)} |`,
        `| agent: download + write + verify (its stage elapsedMs) | ${t(agentMs)} |`,
        `| agent: same, console "stage:" → "staged and verified" | ${t(agentConsoleMs)} |`,
        `| busybox: tftp -b ${blksize} to RAM + md5sum + dd conv=fsync + read-back md5sum | ${t(bbMs)} |`,
        `| ratio agent / busybox | ${(agentMs / bbMs).toFixed(2)}× |`,
        `| agent RSS in the guest, idle after staging (VmRSS / RssAnon / RssFile + RssShmem / VmHWM) | ${(kb('VmRSS') / 1024).toFixed(1)} / ${(kb('RssAnon') / 1024).toFixed(1)} / ${((kb('RssFile') + kb('RssShmem')) / 1024).toFixed(1)} / ${(kb('VmHWM') / 1024).toFixed(1)} MiB |`,
        '',
      ].join('\n'),
    );
  } finally {
    await q?.kill();
    await killAllQemu();
    await lab?.stop();
    rmSync(payload, { force: true });
  }
}

// ^C / kill: power the guest off, so main's finally removes the lab
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void killAllQemu());
await main();
