/**
 * A reproducible cpio "newc" archive (the Linux initramfs format) written from a list of
 * entries: sorted paths, every owner 0:0, one fixed mtime, inode numbers by position, device
 * nodes without mknod (so no root is needed to build an image holding /dev/console).
 */
import { readFileSync, readlinkSync, lstatSync } from 'node:fs';

export type CpioEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; source: string }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'char'; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function header(name: string, ino: number, mode: number, size: number, mtime: number, rdev: [number, number] = [0, 0], nlink = 1): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  const h = Buffer.from(
    '070701' +
      [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev[0], rdev[1], nameBytes.length, 0].map(hex8).join(''),
    'ascii',
  );
  return [h, nameBytes, pad4(h.length + nameBytes.length)];
}

/** The archive bytes; entries are sorted by path (parents before children). */
export function cpioArchive(entries: CpioEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let ino = 1;
  for (const e of sorted) {
    const name = e.path.replace(/^\/+/, '');
    if (name === '') continue;
    ino++;
    if (e.type === 'dir') {
      parts.push(...header(name, ino, S_IFDIR | e.mode, 0, mtime, [0, 0], 2));
    } else if (e.type === 'symlink') {
      const t = Buffer.from(e.target);
      parts.push(...header(name, ino, S_IFLNK | 0o777, t.length, mtime), t, pad4(t.length));
    } else if (e.type === 'char') {
      parts.push(...header(name, ino, S_IFCHR | e.mode, 0, mtime, [e.major, e.minor]));
    } else {
      const data = readFileSync(e.source);
      parts.push(...header(name, ino, S_IFREG | e.mode, data.length, mtime), data, pad4(data.length));
    }
  }
  parts.push(...header('TRAILER!!!', 0, 0, 0, 0, [0, 0], 1));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, pad4(body.length), Buffer.alloc((512 - ((body.length + pad4(body.length).length) % 512)) % 512)]);
}

/** Entries for a staged directory tree (mode bits kept, owners dropped to root). */
export function entriesFromTree(root: string, paths: string[]): CpioEntry[] {
  return paths.map((p): CpioEntry => {
    const full = `${root}/${p}`;
    const st = lstatSync(full);
    if (st.isSymbolicLink()) return { path: p, type: 'symlink', target: readlinkSync(full) };
    if (st.isDirectory()) return { path: p, type: 'dir', mode: st.mode & 0o7777 };
    if (st.isFile()) return { path: p, type: 'file', mode: st.mode & 0o7777, source: full };
    throw new Error(`rootfs: unsupported file type at ${full}`);
  });
}
