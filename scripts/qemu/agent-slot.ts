/**
 * A slot image of the QEMU modem carrying the real agent, for the QEMU power cuts (scenario
 * "agent") and the guest benchmark: the rootfs of `make rootfs ARCH=arm64`
 * (dist/rootfs-arm64.cpio.xz, the agent SEA, signature policy "require") followed by a small
 * board overlay (the kernel unpacks concatenated initramfs archives into one root, later files
 * replace earlier ones):
 *   /etc/cpe-agent.json     the rootfs's own config with platform and tftp from platform/boards/qemu-arm64/cpe-agent.json
 *                           and policy.allowDowngrade (the state dir is in RAM: the version is unknown at every boot)
 *   /etc/modules            virtio, vfat, nls modules (rcS loads them)
 *   /etc/init.d/board       mounts the boot partition (vda1, the U-Boot env files) at /boot, sets eth0 up
 *   /etc/cpe-agent/version  VERSION (first line; the rest as the rootfs build writes it)
 * then slot-image.sh (kernel + modules) → an ext4 slot image.
 * This is the lab's own assembly, not `make firmware` (the qemu-image work).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const Q = join(ROOT, 'scripts/qemu');
export const AGENT_ROOTFS = join(ROOT, 'dist/rootfs-arm64.cpio.xz');
export const KERNEL_DIR = join(ROOT, '.lab/qemu/kernel');
/** the QEMU board's config (qemu-image's platform/boards/qemu-arm64): its platform and tftp sections are used */
export const BOARD_CONFIG = join(ROOT, 'platform/boards/qemu-arm64/cpe-agent.json');

const BOARD_INIT = `#!/bin/sh
# QEMU modem board hook (scripts/qemu/agent-slot.ts): the boot partition with the U-Boot env
n=0; while [ ! -b /dev/vda1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
mkdir -p /boot
mount -t vfat -o rw,flush /dev/vda1 /boot && echo "board: /boot mounted, slot $(sed -n 's/.*boot_slot=\\([AB]\\).*/\\1/p' /proc/cmdline)"
# the agent configures addresses and routes but expects the WAN link up
ip link set eth0 up 2>/dev/null
`;

async function sh(cmd: string, timeout = 120_000): Promise<string> {
  return (await run('bash', ['-c', cmd], { timeout, maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** The board config: the rootfs's /etc/cpe-agent.json with the board platform. */
export async function boardConfig(rootfs = AGENT_ROOTFS): Promise<Record<string, unknown>> {
  const text = await sh(`xz -dc '${rootfs}' | cpio -i --quiet --to-stdout etc/cpe-agent.json`);
  const cfg = JSON.parse(text) as Record<string, unknown>;
  const board = JSON.parse(readFileSync(BOARD_CONFIG, 'utf8')) as { platform: unknown; tftp?: unknown };
  // the state dir is in RAM (initramfs): every boot rebuilds the state from the slot with its
  // version unknown, and such a modem refuses every offer as a possible downgrade
  const policy = { ...((cfg.policy ?? {}) as Record<string, unknown>), allowDowngrade: true };
  return { ...cfg, platform: board.platform, ...(board.tftp ? { tftp: board.tftp } : {}), policy };
}

/** Builds OUT (ext4 slot image) holding the agent rootfs + board overlay as version `version`. */
export async function buildAgentSlot(o: { out: string; version: string; rootfs?: string; config?: Record<string, unknown> }): Promise<void> {
  const rootfs = o.rootfs ?? AGENT_ROOTFS;
  await run(join(Q, 'kernel.sh'), [KERNEL_DIR], { timeout: 300_000 });
  const tmp = mkdtempSync(join(ROOT, '.lab/qemu/agent-slot-'));
  try {
    const ov = join(tmp, 'overlay');
    mkdirSync(join(ov, 'etc/init.d'), { recursive: true });
    mkdirSync(join(ov, 'etc/cpe-agent'), { recursive: true });
    writeFileSync(join(ov, 'etc/cpe-agent.json'), JSON.stringify(o.config ?? (await boardConfig(rootfs)), null, 2) + '\n');
    writeFileSync(join(ov, 'etc/modules'), ['virtio_pci', 'virtio_blk', 'virtio_net', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_iso8859-1', ''].join('\n'));
    writeFileSync(join(ov, 'etc/init.d/board'), BOARD_INIT);
    chmodSync(join(ov, 'etc/init.d/board'), 0o755);
    const orig = await sh(`xz -dc '${rootfs}' | cpio -i --quiet --to-stdout etc/cpe-agent/version`);
    writeFileSync(join(ov, 'etc/cpe-agent/version'), [o.version, ...orig.split('\n').slice(1)].join('\n'));
    const initrd = join(tmp, 'initrd.img');
    // only files (no directory entries: the rootfs's own directories and modes stay)
    await sh(`cd '${ov}' && find . -type f | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1 > '${tmp}/overlay.cpio.gz' && cat '${rootfs}' '${tmp}/overlay.cpio.gz' > '${initrd}'`);
    await run(join(Q, 'slot-image.sh'), [o.out, KERNEL_DIR, initrd, o.version], { timeout: 300_000 });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `cpe-agent image sign`: payload + trailer signed with the lab's development key (.lab/keys/vendor.key, the rootfs's trusted key); returns the file's MD5. */
export async function signImage(payload: string, out: string, version: string): Promise<string> {
  const key = join(ROOT, '.lab/keys/vendor.key');
  await run(process.execPath, [join(ROOT, 'dist/cpe-agent.cjs'), 'image', 'sign', payload, '--key', key, '--fw-version', version, '--model', 'FS-0900E', '--out', out], { timeout: 120_000 });
  return createHash('md5').update(readFileSync(out)).digest('hex');
}
