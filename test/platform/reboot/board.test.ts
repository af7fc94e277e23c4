import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BoardRebooter } from '../../../platform/reboot/board.ts';

const d = mkdtempSync(join(tmpdir(), 'cpe-reboot-'));
afterAll(() => rmSync(d, { recursive: true, force: true }));

describe('board rebooter', () => {
  it('sysrq: syncs first, then writes b to the trigger', async () => {
    const trigger = join(d, 'sysrq-trigger');
    const marker = join(d, 'synced');
    writeFileSync(trigger, '');
    // the "sync" step leaves a marker; the trigger must be written after it
    await new BoardRebooter({ sysrqTrigger: trigger, sync: ['sh', '-c', `test ! -s ${trigger} && echo ok > ${marker}`] }).reboot('test');
    expect(readFileSync(marker, 'utf8')).toBe('ok\n');
    expect(readFileSync(trigger, 'utf8')).toBe('b');
  });

  it('command: runs the argv; a failing command is REBOOT_FAILED', async () => {
    const out = join(d, 'cmd');
    await new BoardRebooter({ method: 'command', command: ['sh', '-c', `echo rebooted > ${out}`], sync: [] }).reboot('t');
    expect(readFileSync(out, 'utf8')).toBe('rebooted\n');
    await expect(new BoardRebooter({ method: 'command', command: ['false'], sync: [] }).reboot('t')).rejects.toMatchObject({ code: 'REBOOT_FAILED' });
  });

  it('a missing sysrq trigger is REBOOT_FAILED', async () => {
    await expect(new BoardRebooter({ sysrqTrigger: join(d, 'nope', 'x'), sync: [] }).reboot('t')).rejects.toMatchObject({ code: 'REBOOT_FAILED' });
  });
});
