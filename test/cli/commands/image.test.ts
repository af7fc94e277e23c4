/** `cpe-agent image keygen|sign|verify|inspect` through the built binary, as an ISP runs it. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT } from '../../helpers/prereq.ts';
import { ensureBuiltAgent } from '../../helpers/built-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'image-cli-'));
const run = (...args: string[]) => {
  const r = spawnSync(AGENT, args, { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
beforeAll(() => {
  ensureBuiltAgent();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cpe-agent image', () => {
  it('keygen → sign → verify/inspect; tampered or wrong key → exit 1 with the reason', () => {
    expect(run('image', 'keygen', '--out', 'vendor').code).toBe(0);
    expect(run('image', 'keygen', '--out', 'isp').code).toBe(0);
    expect(statSync(join(dir, 'vendor.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'vendor.pub'), 'utf8')).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=\n$/);
    const pubBefore = readFileSync(join(dir, 'vendor.pub'), 'utf8');
    expect(run('image', 'keygen', '--out', 'vendor')).toMatchObject({ code: 2, err: expect.stringContaining('CLI_FILE') });
    expect(readFileSync(join(dir, 'vendor.pub'), 'utf8')).toBe(pubBefore); // an existing pair is left alone
    writeFileSync(join(dir, 'half.key'), 'x');
    expect(run('image', 'keygen', '--out', 'half')).toMatchObject({ code: 2 });
    expect(existsSync(join(dir, 'half.pub'))).toBe(false); // no half pair left behind

    const payload = randomBytes(300_000);
    writeFileSync(join(dir, 'payload.bin'), payload);
    expect(run('image', 'sign', 'payload.bin', '--key', 'vendor.key', '--fw-version', '1.3.0', '--model', 'X', '--out', './payload.bin')).toMatchObject({ code: 2, err: expect.stringContaining('CLI_BAD_ARGUMENT') });
    const s = run('image', 'sign', 'payload.bin', '--key', 'vendor.key', '--cosign', 'isp.key', '--fw-version', '1.3.0', '--model', 'FS-0900E', '--signed-at', '2026-12-01T00:00:00Z', '--out', 'FS-0900E_FW_1_03_00.bin', '--dhcpd', '198.18.1.1');
    expect(s.code, s.err).toBe(0);
    const signed = readFileSync(join(dir, 'FS-0900E_FW_1_03_00.bin'));
    expect(signed.subarray(0, payload.length).equals(payload)).toBe(true);
    const md5 = createHash('md5').update(signed).digest('hex');
    expect(s.out).toContain(`md5          ${md5}`);
    expect(s.out).toContain('option cts.software-file "FS-0900E_FW_1_03_00.bin";');
    expect(s.out).toContain('match if option vendor-class-identifier = "FS-0900E";');

    const v = run('image', 'verify', 'FS-0900E_FW_1_03_00.bin', '--key', 'vendor.pub', '--cosigner', 'isp.pub', '--model', 'FS-0900E', '--running-version', '1.2.0', '--json');
    expect(v.code, v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, md5, metadata: { version: '1.3.0', models: ['FS-0900E'], signedAt: 1_796_083_200 } });
    expect(run('image', 'verify', 'FS-0900E_FW_1_03_00.bin', '--key', 'isp.pub')).toMatchObject({ code: 1, out: expect.stringContaining('IMAGE_UNKNOWN_KEY') });
    expect(run('image', 'verify', 'FS-0900E_FW_1_03_00.bin', '--key', 'vendor.pub', '--cosigner', 'isp.pub', '--model', 'ESH-3105')).toMatchObject({ code: 1, out: expect.stringContaining('IMAGE_MODEL_NOT_LISTED') });
    expect(run('image', 'verify', 'FS-0900E_FW_1_03_00.bin', '--key', 'vendor.pub', '--cosigner', 'isp.pub', '--running-version', '1.4.0')).toMatchObject({ code: 1, out: expect.stringContaining('IMAGE_VERSION_ROLLBACK') });
    const bad = Buffer.from(signed);
    bad[1000] = (bad[1000] ?? 0) ^ 1;
    writeFileSync(join(dir, 'bad.bin'), bad);
    expect(run('image', 'verify', 'bad.bin', '--key', 'vendor.pub', '--cosigner', 'isp.pub')).toMatchObject({ code: 1, out: expect.stringContaining('IMAGE_PAYLOAD_MISMATCH') });

    const i = run('image', 'inspect', 'FS-0900E_FW_1_03_00.bin');
    expect(i.code).toBe(0);
    expect(i.out).toContain('version      1.3.0');
    expect(i.out).toMatch(/signature {4}manufacturer key [0-9a-f]{16}\nsignature {4}co-signer key [0-9a-f]{16}/);
    expect(run('image', 'inspect', 'payload.bin')).toMatchObject({ code: 1, out: expect.stringContaining('IMAGE_UNSIGNED') });
    expect(run('image', 'verify', 'payload.bin', '--key', 'ed25519:nope')).toMatchObject({ code: 2, err: expect.stringContaining('IMAGE_KEY_INVALID') });
  }, 60_000);
});
