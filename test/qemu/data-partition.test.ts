/**
 * scripts/qemu/data-partition.ts: the QEMU modem's data partition read on the host without
 * mounting (sfdisk -J for its place, e2fsck -fy on a copy, debugfs dump), as the agent power-cut
 * scenario reads state.json after a cut. A small MBR disk with an ext4 made by mkfs.ext4 -d.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { partitionRange, readDataPartition } from '../../scripts/qemu/data-partition.ts';
import { describeLab } from '../helpers/prereq.ts';

const MiB = 1024 * 1024;

describeLab('data partition read on the host (sfdisk, e2fsck, debugfs)', ['sfdisk', 'mkfs.ext4', 'e2fsck', 'debugfs'], () => {
  let dir: string;
  let disk: string;
  const state = JSON.stringify({ schema: 1, note: 'state as the agent wrote it' });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cpe-datapart-'));
    const content = join(dir, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'state.json'), state);
    writeFileSync(join(content, 'site.json'), '{"iface":"eth0"}\n');
    const fs = join(dir, 'data.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'data', '-d', content, fs, '2M']);
    disk = join(dir, 'disk.img');
    execFileSync('truncate', ['-s', String(8 * MiB), disk]);
    // like disk.sh: p1–p3 before it, the data partition p4 last (MiB-aligned); p3 stays zeros
    execFileSync('sfdisk', ['-q', disk], { input: 'label: dos\nstart=1MiB, size=1MiB, type=e\nstart=2MiB, size=1MiB, type=83\nstart=3MiB, size=2MiB, type=83\nstart=5MiB, size=2MiB, type=83\n' });
    execFileSync('dd', [`if=${fs}`, `of=${disk}`, 'bs=1M', 'seek=5', 'conv=notrunc', 'status=none']);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds p4 from the partition table and takes its files out; a file the partition lacks is null', async () => {
    expect(await partitionRange(disk, 4)).toEqual({ offset: 5 * MiB, size: 2 * MiB });
    const d = await readDataPartition(disk, join(dir, 'out'), ['state.json', 'site.json', 'missing.json']);
    expect(d.fsck).toBe(0);
    expect(readFileSync(d.files['state.json'] ?? '', 'utf8')).toBe(state);
    expect(JSON.parse(readFileSync(d.files['site.json'] ?? '', 'utf8'))).toEqual({ iface: 'eth0' });
    expect(d.files['missing.json']).toBeNull();
  });

  it('a partition without a file system: e2fsck fails (exit ≥ 4) and no file comes out', async () => {
    const d = await readDataPartition(disk, join(dir, 'out3'), ['state.json'], 3);
    expect(d.fsck).toBeGreaterThanOrEqual(4);
    expect(d.files['state.json']).toBeNull();
  });
});
