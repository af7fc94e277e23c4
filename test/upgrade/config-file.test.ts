import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fetchConfigFile, configPaths, readStoredConfig } from '../../agent/upgrade/config-file.ts';
import { isAgentError } from '../../agent/errors.ts';
import type { Fetcher, TransferRequest } from '../../agent/transfer/types.ts';

const md5 = (b: string | Uint8Array): string => createHash('md5').update(b).digest('hex');

function fetcherOf(content: string, calls: { n: number } = { n: 0 }): Fetcher {
  return async (_req, sink, o = {}) => {
    calls.n++;
    const b = Buffer.from(content);
    o.onSize?.(b.length);
    for (let i = 0; i < b.length; i += 7) await sink.write(b.subarray(i, i + 7));
    return { bytes: b.length, total: b.length, elapsedMs: 1 };
  };
}

const request: TransferRequest = { protocol: 'tftp', server: '198.18.48.1', file: '../../etc/cpe.cfg' };
let state: string;
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'cpf-cfg-'));
});
afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});

describe('fetchConfigFile', () => {
  it('verifies and stores the file under a fixed local name (the remote name is only recorded)', async () => {
    const text = 'wifi.ssid=fiber\nvoip.enable=1\n';
    const r = await fetchConfigFile({ fetcher: fetcherOf(text), request, md5: md5(text), stateDir: state });
    expect(r).toMatchObject({ changed: true, applied: false, md5: md5(text), bytes: text.length, file: '../../etc/cpe.cfg', path: configPaths(state).current });
    expect(await readFile(configPaths(state).current, 'utf8')).toBe(text);
    expect(await readStoredConfig(state)).toMatchObject({ md5: md5(text), file: '../../etc/cpe.cfg' });
    expect((await readdir(configPaths(state).dir)).sort()).toEqual(['current', 'current.json']);
  });

  it('an MD5 mismatch leaves the previous configuration in place and no temporary file', async () => {
    const old = 'old=1\n';
    await fetchConfigFile({ fetcher: fetcherOf(old), request, md5: md5(old), stateDir: state });
    const err = await fetchConfigFile({ fetcher: fetcherOf('new=2\n'), request, md5: md5('something else'), stateDir: state }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_CONFIG_MD5_MISMATCH')).toBe(true);
    expect(await readFile(configPaths(state).current, 'utf8')).toBe(old);
    expect((await readStoredConfig(state))?.md5).toBe(md5(old));
    expect((await readdir(configPaths(state).dir)).sort()).toEqual(['current', 'current.json']);
  });

  it('does not fetch again a configuration it already holds', async () => {
    const text = 'a=b\n';
    const calls = { n: 0 };
    await fetchConfigFile({ fetcher: fetcherOf(text, calls), request, md5: md5(text), stateDir: state });
    const r = await fetchConfigFile({ fetcher: fetcherOf(text, calls), request, md5: md5(text).toUpperCase(), stateDir: state });
    expect(r.changed).toBe(false);
    expect(calls.n).toBe(1);
  });

  it('refetches when the stored file does not match its record', async () => {
    const text = 'a=b\n';
    const calls = { n: 0 };
    await fetchConfigFile({ fetcher: fetcherOf(text, calls), request, md5: md5(text), stateDir: state });
    await writeFile(configPaths(state).current, 'tampered');
    const r = await fetchConfigFile({ fetcher: fetcherOf(text, calls), request, md5: md5(text), stateDir: state });
    expect(r.changed).toBe(true);
    expect(calls.n).toBe(2);
    expect(await readFile(configPaths(state).current, 'utf8')).toBe(text);
  });

  it('refuses an oversized file before storing anything', async () => {
    const big = 'x'.repeat(2000);
    const err = await fetchConfigFile({ fetcher: fetcherOf(big), request, md5: md5(big), stateDir: state, maxBytes: 1000 }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_CONFIG_TOO_LARGE')).toBe(true);
    expect(await readStoredConfig(state)).toBeUndefined();
  });

  it('runs the apply hook with the stored path; a failing hook restores the previous configuration', async () => {
    const hook = join(state, 'apply.sh');
    const seen = join(state, 'seen');
    await writeFile(hook, `#!/bin/sh\ncat "$1" >> ${seen}\ngrep -q bad "$1" && { echo "rejected by hook" >&2; exit 3; }\nexit 0\n`);
    await chmod(hook, 0o755);
    const good = 'good=1\n';
    const r = await fetchConfigFile({ fetcher: fetcherOf(good), request, md5: md5(good), stateDir: state, applyCommand: [hook] });
    expect(r.applied).toBe(true);
    expect(await readFile(seen, 'utf8')).toBe(good);
    const bad = 'bad=1\n';
    const err = await fetchConfigFile({ fetcher: fetcherOf(bad), request, md5: md5(bad), stateDir: state, applyCommand: [hook] }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_CONFIG_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/rejected by hook/);
    expect(await readFile(configPaths(state).current, 'utf8')).toBe(good);
    expect((await readStoredConfig(state))?.md5).toBe(md5(good));
  });

  it('rejects a malformed MD5', async () => {
    await expect(fetchConfigFile({ fetcher: fetcherOf('x'), request, md5: 'nothex', stateDir: state })).rejects.toSatisfy((e) => isAgentError(e, 'UPGRADE_MD5_INVALID'));
  });

  it('a signal aborted during the download (stop/reboot): nothing is stored, even if the fetcher finishes', async () => {
    const old = 'old=1\n';
    await fetchConfigFile({ fetcher: fetcherOf(old), request, md5: md5(old), stateDir: state });
    const text = 'new=2\n';
    const ac = new AbortController();
    const deaf: Fetcher = async (req, sink, o = {}) => {
      ac.abort(new Error('stopping (test)'));
      return fetcherOf(text)(req, sink, { ...o, signal: undefined });
    };
    const err = await fetchConfigFile({ fetcher: deaf, request, md5: md5(text), stateDir: state, signal: ac.signal }).catch((e: unknown) => e);
    expect(isAgentError(err, 'UPGRADE_ABORTED')).toBe(true);
    expect(await readFile(configPaths(state).current, 'utf8')).toBe(old);
    expect((await readStoredConfig(state))?.md5).toBe(md5(old));
  });
});
