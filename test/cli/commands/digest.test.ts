/**
 * `cpe-agent digest [FILE]`: MD5 + SHA-256 of a file or of stdin as one JSON line (what
 * md5sum and sha256sum print); the daemon's boot checks hash through it (digest-child.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT } from '../../helpers/prereq.ts';
import { ensureBuiltAgent } from '../../helpers/built-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'digest-cli-'));
const file = join(dir, 'image.bin');
writeFileSync(file, randomBytes(5 * 1024 * 1024 + 3));
beforeAll(() => {
  ensureBuiltAgent();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** what coreutils say about FILE */
const coreutils = (tool: string): string => execFileSync(tool, [file], { encoding: 'utf8' }).split(' ')[0] ?? '';

describe('cpe-agent digest', () => {
  it('of a file and of the same bytes on stdin: the digests md5sum and sha256sum print', () => {
    const want = { bytes: 5 * 1024 * 1024 + 3, md5: coreutils('md5sum'), sha256: coreutils('sha256sum') };
    const a = spawnSync(AGENT, ['digest', file], { encoding: 'utf8' });
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(want);
    const b = spawnSync('sh', ['-c', `"${AGENT}" digest < "${file}"`], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(want);
  });
  it('a file that cannot be read → exit 2, DIGEST_READ', () => {
    const r = spawnSync(AGENT, ['digest', join(dir, 'missing')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[DIGEST_READ]');
    expect(r.stdout).toBe('');
  });
});
