import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendControl, startControlServer } from '../../agent/daemon/control.ts';
import { isAgentError } from '../../agent/errors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpe-ctl-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('control socket', () => {
  it('no daemon → null', async () => {
    expect(await sendControl(dir, { cmd: 'ping' })).toBeNull();
  });

  it('reply first, then the side effect', { timeout: 10_000 }, async () => {
    const seen: string[] = [];
    let ran: () => void = () => undefined;
    const afterRan = new Promise<void>((r) => (ran = r));
    const srv = await startControlServer(dir, (c) => ({
      reply: { ok: true, message: c.cmd },
      after: () => {
        seen.push(`after ${c.cmd}${c.cmd === 'reboot' ? ` ${c.source}` : ''}`);
        ran();
      },
    }));
    expect(await sendControl(dir, { cmd: 'reboot', source: 'cli' })).toEqual({ ok: true, message: 'reboot' });
    await afterRan; // the side effect runs once the reply is flushed (never: the test times out)
    expect(seen).toEqual(['after reboot cli']);
    await srv.close();
    expect(await sendControl(dir, { cmd: 'ping' })).toBeNull();
  });

  it('a stale socket file (daemon killed) is replaced', async () => {
    writeFileSync(join(dir, 'control.sock'), '');
    const srv = await startControlServer(dir, () => ({ reply: { ok: true, message: 'fresh' } }));
    expect(await sendControl(dir, { cmd: 'ping' })).toEqual({ ok: true, message: 'fresh' });
    await srv.close();
  });

  it('is a single-instance lock: a second server on the same dir is refused', async () => {
    const a = await startControlServer(dir, () => ({ reply: { ok: true, message: 'a' } }));
    let err: unknown;
    try {
      await startControlServer(dir, () => ({ reply: { ok: true, message: 'b' } }));
    } catch (e) {
      err = e;
    }
    expect(isAgentError(err, 'DAEMON_RUNNING')).toBe(true);
    await a.close();
  });
});
