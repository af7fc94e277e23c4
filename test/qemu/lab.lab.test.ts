/**
 * The QEMU modem's lab (scripts/qemu/lab.ts) and console helper (test/helpers/qemu-console.ts),
 * proved with the busybox mini rootfs: role `net` loads virtio_net and runs busybox udhcpc on
 * the tap NIC against the lab's ISC dhcpd; the lease and option 43 come back on the serial
 * console. Each QEMU run is bounded by its timeout; nothing is left running.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { decodeOption43ForClass } from '../../agent/option43/index.ts';
import type { Option43Offer } from '../../agent/option43/types.ts';
import { startQemuLab, randomMac, type QemuLab } from '../../scripts/qemu/lab.ts';
import { describeLab } from '../helpers/prereq.ts';
import { killAllQemu, startQemu, UBOOT_BIN } from '../helpers/qemu-console.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const Q = join(ROOT, 'scripts/qemu');
const KERNEL = join(ROOT, '.lab/qemu/kernel');
const VC = 'FS-0900E';
const TOOLS = ['qemu-system-aarch64', UBOOT_BIN, 'mkimage', 'mkfs.vfat', 'mcopy', 'sfdisk', 'mkfs.ext4', 'cpio', 'depmod', 'dhcpd', 'in.tftpd', 'vsftpd', 'tcpdump', 'snmpget'];

describeLab('QEMU modem lab: tap NIC in a namespace, ISC dhcpd option 43 to the guest, console helper', TOOLS, () => {
  let dir: string;
  let disk: string;
  let lab: QemuLab | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cpe-qlab-'));
    await run(join(Q, 'kernel.sh'), [KERNEL], { timeout: 300_000 });
    const initrd = join(dir, 'mini-net.cpio.gz');
    await run(join(Q, 'mini-rootfs.sh'), [initrd, KERNEL, '1', 'net'], { timeout: 120_000, env: { ...process.env, VENDOR_CLASS: VC } });
    await run(join(Q, 'slot-image.sh'), [join(dir, 'slot.ext4'), KERNEL, initrd, '1'], { timeout: 60_000 });
    disk = join(dir, 'disk.img');
    await run(join(Q, 'disk.sh'), [disk, join(dir, 'slot.ext4')], { timeout: 60_000 });
  }, 420_000);
  afterEach(async () => {
    await killAllQemu();
  });
  afterAll(async () => {
    await killAllQemu();
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const offer = (file: string, md5: string): Option43Offer => ({ protocol: 'tftp', server: '198.18.96.1', softwareFile: file, softwareMd5: md5, flags: 1, urgent: true, unknown: [] });

  it('the guest gets a lease and the option 43 of its vendor class (changed at runtime) over the tap', async () => {
    lab = await startQemuLab({ classes: { [VC]: offer('v1.img', '0'.repeat(32)) }, ftp: { user: 'cpqftp', password: 'lab-pass-1' } });
    // the offer changes before the modem boots: dhcpd is restarted with the new class block
    await lab.setOffers({ [VC]: offer('v2.img', 'ab'.repeat(16)) });
    const pcap = join(dir, 'dhcp.pcap');
    const cap = await lab.tcpdump(pcap, 'udp port 67 or udp port 68');
    const mac = randomMac();
    const q = startQemu({ disk, log: join(dir, 'net.console'), timeoutMs: 150_000, netns: lab.ns, netArgs: lab.qemuNetArgs(mac) });
    await q.waitFor(/MINI: udhcpc on eth0 \(mac ([0-9a-f:]+)\)/, 120_000);
    const m = await q.waitFor(/MINI: LEASE ip=(\S+) router=(\S*) serverid=(\S*) lease=(\d+) opt43=([0-9a-f]*)\r?\n/, 60_000); // to the line end: a console chunk may end inside the hex
    const seconds = q.elapsed() / 1000;
    const exit = await q.exited;
    await cap.stop();
    console.log(`QEMU start → udhcpc lease in the guest: ${seconds.toFixed(1)} s`);
    expect(exit.timedOut).toBe(false); // the guest powered off by itself
    const [, ip, router, serverId, , opt43] = m;
    const pool = lab.up.pools[VC] ?? ['', ''];
    const last = (a: string): number => Number(a.split('.')[3]);
    expect(last(ip ?? '')).toBeGreaterThanOrEqual(last(pool[0]));
    expect(last(ip ?? '')).toBeLessThanOrEqual(last(pool[1]));
    expect(router).toBe(lab.serverIp);
    expect(serverId).toBe(lab.serverIp);
    expect(decodeOption43ForClass(VC, Buffer.from(opt43 ?? '', 'hex'))).toMatchObject({ protocol: 'tftp', softwareFile: 'v2.img', softwareMd5: 'ab'.repeat(16) });
    expect((await lab.up.leases()).some((l) => l.address === ip && l.hardware === mac && l.bindingState === 'active')).toBe(true);
    expect(readFileSync(join(dir, 'net.console'), 'utf8')).toContain('MINI: LEASE ip='); // the log file has the console
    const dump = await lab.exec(['tcpdump', '-n', '-r', pcap]);
    expect(dump.stdout).toContain(`Request from ${mac}`);
    const snmp = await lab.snmp('snmpget', ['--version']);
    expect(snmp.stdout + snmp.stderr).toMatch(/NET-SNMP version/);
  }, 240_000);

  it('kill() is a power cut: SIGKILL mid-boot, QEMU gone, nothing left in the namespace', async () => {
    const l = lab ?? (await startQemuLab({ classes: { [VC]: offer('v1.img', '0'.repeat(32)) }, ftp: { user: 'cpqftp', password: 'lab-pass-1' } }));
    lab = l;
    const q = startQemu({ disk, log: join(dir, 'kill.console'), timeoutMs: 60_000, netns: l.ns, netArgs: l.qemuNetArgs() });
    await q.waitFor(/U-Boot \d{4}\.\d\d/, 30_000);
    const exit = await q.kill();
    expect(exit.signal).toBe('SIGKILL');
    expect(exit.timedOut).toBe(false);
    expect(existsSync(`/proc/${q.pid}`)).toBe(false);
    const pids = (await run('ip', ['netns', 'pids', l.ns])).stdout.split(/\s+/).filter(Boolean).map(Number);
    expect(pids).not.toContain(q.pid);
    await expect(q.waitFor(/never printed/, 1000)).rejects.toThrow(/QEMU exited/);
  }, 90_000);
});
