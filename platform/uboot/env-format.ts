/**
 * The U-Boot environment block, as U-Boot's `env export -c` / `env import -c` and
 * libubootenv's fw_printenv / fw_setenv read and write it (pure; no I/O).
 *
 *   single copy:     crc32(LE, 4) | data (size - 4)
 *   redundant copy:  crc32(LE, 4) | flags (1) | data (size - 5)
 *   data:            "name=value\0" … "\0", the rest padding (covered by the CRC)
 *
 * The CRC is the zlib CRC-32 of the whole data area. With two copies (redundant
 * environment) the valid copy with the newer `flags` counter is current; a write goes to
 * the other copy with flags + 1 (mod 256), so a power cut during a write leaves the
 * current copy intact. Rule measured against libubootenv 0.3.2 (fw_printenv): the higher
 * flags wins, except that 0 beats 255 (wrap-around); on a tie copy 1 wins.
 */
import { crc32 } from 'node:zlib';
import { AgentError } from '../../agent/errors.ts';

export type EnvVars = Readonly<Record<string, string>>;

/** The libubootenv default size (fw_env.config: 0x4000). */
export const DEFAULT_ENV_SIZE = 0x4000;

const NAME = /^[^=\0\s]+$/;

function headerLength(redundant: boolean): number {
  return redundant ? 5 : 4;
}

/** Checks names and values (no '=' in a name, no NUL anywhere); throws UBOOT_ENV_INVALID_VAR. */
export function checkVar(name: string, value: string): void {
  if (!NAME.test(name)) throw new AgentError('UBOOT_ENV_INVALID_VAR', `invalid U-Boot variable name ${JSON.stringify(name)}`, { name });
  if (value.includes('\0')) throw new AgentError('UBOOT_ENV_INVALID_VAR', `the value of ${name} contains a NUL byte`, { name });
}

/** Encodes one copy of `size` bytes; names sorted like U-Boot's and libubootenv's export. */
export function encodeEnv(vars: EnvVars, opts: { size: number; redundant: boolean; flags?: number }): Buffer {
  const hdr = headerLength(opts.redundant);
  const names = Object.keys(vars).sort();
  const parts: Buffer[] = [];
  for (const n of names) {
    const v = vars[n] ?? '';
    checkVar(n, v);
    parts.push(Buffer.from(`${n}=${v}\0`, 'utf8'));
  }
  parts.push(Buffer.from([0]));
  const data = Buffer.concat(parts);
  if (data.length > opts.size - hdr) {
    throw new AgentError('UBOOT_ENV_TOO_BIG', `the environment needs ${data.length} bytes, the block holds ${opts.size - hdr}`, { bytes: data.length, size: opts.size });
  }
  const out = Buffer.alloc(opts.size, 0);
  data.copy(out, hdr);
  out.writeUInt32LE(crc32(out.subarray(hdr)), 0);
  if (opts.redundant) out[4] = (opts.flags ?? 0) & 0xff;
  return out;
}

export interface DecodedCopy {
  vars: Record<string, string>;
  /** the redundant flags counter (0 for a single copy) */
  flags: number;
}

/** Decodes one copy; null when the block is short or its CRC does not match. */
export function decodeEnv(block: Uint8Array, opts: { redundant: boolean }): DecodedCopy | null {
  const hdr = headerLength(opts.redundant);
  if (block.length <= hdr) return null;
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const data = buf.subarray(hdr);
  if (crc32(data) !== buf.readUInt32LE(0)) return null;
  const vars: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    let end = data.indexOf(0, pos);
    if (end < 0) end = data.length;
    const entry = data.toString('utf8', pos, end);
    const eq = entry.indexOf('=');
    if (eq > 0) vars[entry.slice(0, eq)] = entry.slice(eq + 1);
    pos = end + 1;
  }
  return { vars, flags: opts.redundant ? (buf[4] ?? 0) : 0 };
}

/**
 * Which of two decoded copies is current: index 0 or 1, or null when both are bad.
 * libubootenv's rule (see the file comment).
 */
export function currentCopy(a: DecodedCopy | null, b: DecodedCopy | null): 0 | 1 | null {
  if (!a && !b) return null;
  if (!a) return 1;
  if (!b) return 0;
  if (a.flags === 0xff && b.flags === 0) return 1;
  if (b.flags === 0xff && a.flags === 0) return 0;
  return b.flags > a.flags ? 1 : 0;
}
