/**
 * Fetches the configuration file named in the offer into `<stateDir>/config/<name>`:
 * streamed through MD5/SHA-256, verified, then renamed into place atomically (a failed or
 * mismatching download leaves the previous file untouched). Applying it is board-specific
 * and out of scope (seed 000 §2); the record lands in the state and `status`.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AgentError } from '../errors.ts';
import { HashingSink } from '../transfer/hashing-sink.ts';
import { fsyncDir } from '../util/atomic-file.ts';
import type { Fetcher, TransferRequest } from '../transfer/types.ts';
import type { ConfigRecord } from '../upgrade/image.ts';

/** Config files are small; refuse anything absurd before writing it. */
export const CONFIG_MAX_BYTES = 4 * 1024 * 1024;

export async function fetchConfigFile(fetcher: Fetcher, request: TransferRequest, md5: string, stateDir: string, now: number, signal?: AbortSignal): Promise<ConfigRecord> {
  const dir = join(stateDir, 'config');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const name = basename(request.file).replace(/[^A-Za-z0-9._-]/g, '_') || 'config';
  const path = join(dir, name);
  const tmp = `${path}.part`;
  const fh = await open(tmp, 'w', 0o600);
  let ok = false;
  try {
    const sink = new HashingSink({
      write: async (chunk) => {
        if (sink.bytes + chunk.byteLength > CONFIG_MAX_BYTES) {
          throw new AgentError('UPGRADE_CONFIG_TOO_LARGE', `configuration file ${request.file} exceeds ${CONFIG_MAX_BYTES} bytes`);
        }
        await fh.write(chunk);
      },
    });
    await fetcher(request, sink, {
      onSize: (total) => {
        if (total > CONFIG_MAX_BYTES) throw new AgentError('UPGRADE_CONFIG_TOO_LARGE', `configuration file ${request.file} is ${total} bytes`);
      },
      ...(signal ? { signal } : {}),
    });
    const d = sink.digest();
    if (d.md5 !== md5) {
      throw new AgentError('UPGRADE_MD5_MISMATCH', `configuration file ${request.file}: MD5 ${d.md5}, expected ${md5}`, { expected: md5, actual: d.md5, stage: 'stream' });
    }
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    await fsyncDir(dir);
    ok = true;
    return { file: request.file, md5: d.md5, size: d.bytes, path, fetchedAt: now };
  } finally {
    if (!ok) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    }
  }
}
