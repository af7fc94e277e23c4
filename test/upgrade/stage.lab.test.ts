/**
 * stage() on a full disk: the sim directory is a small tmpfs mounted by the test (nothing
 * preallocated), the image fits the configured slot capacity but not the filesystem, so the
 * write hits a real ENOSPC.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile, readdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describeLab } from '../helpers/prereq.ts';
import { run } from '../../scripts/lab/netns.ts';
import { stage } from '../../agent/upgrade/stage.ts';
import { openSimPlatform, slotPath } from '../../platform/sim/index.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import type { Fetcher } from '../../agent/transfer/types.ts';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

describeLab('stage() on a full disk (tmpfs)', ['mount', 'umount'], () => {
  let dir: string;
  let mounted = false;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpf-enospc-'));
    await run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0755', 'tmpfs', dir]);
    mounted = true;
  });

  afterAll(async () => {
    if (mounted) await run(['umount', dir], { allowFail: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('ENOSPC → SLOT_NO_SPACE; active slot, boot env and state file untouched; space given back', async () => {
    const p = await openSimPlatform(dir, { capacity: 16 * 1024 * 1024 });
    const running = randomBytes(256 * 1024);
    await writeFile(slotPath(dir, 'A'), running);
    const stateFile = join(dir, 'state.json');
    await writeFile(stateFile, JSON.stringify({ attempts: 1, image: 'fw-1.bin' }));
    const env = await readFile(join(dir, 'bootenv.json'), 'utf8');
    const freeBefore = (await statfs(dir)).bavail;

    const image = randomBytes(4 * 1024 * 1024); // fits the slot (16 MiB), not the 2 MiB filesystem
    const fetcher: Fetcher = async (_req, sink, o = {}) => {
      o.onSize?.(image.length);
      for (let off = 0; off < image.length; off += 65536) await sink.write(image.subarray(off, off + 65536));
      return { bytes: image.length, total: image.length, elapsedMs: 1 };
    };
    const err = await stage({ fetcher, request: { protocol: 'ftp', server: '198.18.48.1', file: 'fw-2.bin' }, md5: md5(image), slots: p.slots, bootEnv: p.bootEnv }).catch(
      (e: unknown) => e,
    );
    expect(isAgentError(err, 'SLOT_NO_SPACE')).toBe(true);
    expect((err as AgentError).details).toMatchObject({ slot: 'B', cause: 'ENOSPC' });

    expect((await readFile(slotPath(dir, 'A'))).equals(running)).toBe(true);
    expect(await readFile(join(dir, 'bootenv.json'), 'utf8')).toBe(env);
    expect(JSON.parse(await readFile(stateFile, 'utf8'))).toEqual({ attempts: 1, image: 'fw-1.bin' });
    expect((await stat(slotPath(dir, 'B'))).size).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['bootenv.json', 'platform.json', 'slot-A.img', 'slot-B.img', 'state.json']);
    // The partial image was discarded, so the space is back and the agent can still write state.
    expect((await statfs(dir)).bavail).toBe(freeBefore);
    await p.bootEnv.setNext('A');
  });
});
