/**
 * The QEMU modem's data partition (disk.sh's p4, ext4 "data", /var/lib/cpe-agent in the guest)
 * read on the host without mounting: the partition is copied out of the disk image (its place
 * from the partition table, `sfdisk -J`), `e2fsck -fy` replays the journal on the copy (what the
 * guest's next mount would do: debugfs alone reads the blocks as they are, without the journal),
 * then `debugfs -R 'dump …'` takes the files out.
 *
 *   const d = await readDataPartition(disk, work, ['state.json', 'site.json']);
 *   d.fsck      e2fsck's exit code (0 clean, 1 fixed/replayed; 4 and more: errors left)
 *   d.files     name → path of the copy in `work`, or null when the partition has no such file
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SECTOR = 512;

export interface DataPartition {
  fsck: number;
  /** e2fsck's output lines past its banner (what it found or fixed) */
  fsckOutput: string;
  files: Record<string, string | null>;
}

interface SfdiskJson {
  partitiontable: { partitions: Array<{ node: string; start: number; size: number }> };
}

/** Start and size (bytes) of partition `n` (1-based) of a disk image. */
export async function partitionRange(disk: string, n: number): Promise<{ offset: number; size: number }> {
  const { stdout } = await run('sfdisk', ['-J', disk]);
  const p = (JSON.parse(stdout) as SfdiskJson).partitiontable.partitions[n - 1];
  if (!p) throw new Error(`${disk}: no partition ${n}`);
  return { offset: p.start * SECTOR, size: p.size * SECTOR };
}

export async function readDataPartition(disk: string, work: string, names: string[], partition = 4): Promise<DataPartition> {
  mkdirSync(work, { recursive: true });
  const { offset, size } = await partitionRange(disk, partition);
  const MiB = 1024 * 1024;
  if (offset % MiB !== 0 || size % MiB !== 0) throw new Error(`${disk}: partition ${partition} not MiB-aligned`);
  const img = join(work, 'data.ext4');
  rmSync(img, { force: true });
  await run('dd', [`if=${disk}`, `of=${img}`, 'bs=1M', `skip=${offset / MiB}`, `count=${size / MiB}`, 'conv=sparse', 'status=none']);
  let fsck = 0;
  let fsckOutput = '';
  try {
    fsckOutput = (await run('e2fsck', ['-fy', img], { timeout: 120_000 })).stdout;
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    if (typeof err.code !== 'number') throw e;
    fsck = err.code;
    fsckOutput = err.stdout ?? '';
  }
  const files: Record<string, string | null> = {};
  for (const name of names) {
    const out = join(work, name);
    rmSync(out, { force: true });
    await run('debugfs', ['-R', `dump /${name} ${out}`, img], { timeout: 60_000 });
    files[name] = existsSync(out) ? out : null;
  }
  rmSync(img, { force: true });
  return { fsck, fsckOutput: fsckOutput.split('\n').filter((l) => l !== '' && !/^Pass \d|^e2fsck \d/.test(l)).join('; '), files };
}
