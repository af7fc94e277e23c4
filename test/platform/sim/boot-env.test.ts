import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBootEnv, simulateBoot, readBootEnvFile, REBOOT_FILE } from '../../../platform/sim/boot-env.ts';
import { SimRebooter } from '../../../platform/sim/reboot.ts';
import { isAgentError } from '../../../agent/errors.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cpf-bootenv-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SimBootEnv', () => {
  it('starts on slot A, not on trial, and persists that', async () => {
    const env = new SimBootEnv(dir);
    expect(await env.read()).toEqual({ next: 'A', current: 'A', trial: false });
    expect(await readBootEnvFile(dir)).toMatchObject({ next: 'A', current: 'A', trial: false, tries: 0, maxTries: 3 });
  });

  it('setNext(other) puts it on trial; the next boot runs it; markGood makes it permanent', async () => {
    const env = new SimBootEnv(dir);
    await env.setNext('B');
    expect(await env.read()).toEqual({ next: 'B', current: 'A', trial: true });
    const b = await simulateBoot(dir);
    expect(b).toMatchObject({ slot: 'B', previous: 'A', trial: true, tries: 1 });
    expect(b.fellBackFrom).toBeUndefined();
    await env.markGood();
    expect(await env.read()).toEqual({ next: 'B', current: 'B', trial: false });
    const again = await simulateBoot(dir);
    expect(again).toMatchObject({ slot: 'B', trial: false, tries: 0 });
  });

  it('falls back to the other slot after maxTries trial boots without markGood', async () => {
    const env = new SimBootEnv(dir, { maxTries: 3 });
    await env.setNext('B');
    for (let i = 1; i <= 3; i++) expect(await simulateBoot(dir)).toMatchObject({ slot: 'B', tries: i, trial: true });
    const fb = await simulateBoot(dir);
    expect(fb).toMatchObject({ slot: 'A', previous: 'B', trial: false, fellBackFrom: 'B' });
    expect(await env.read()).toEqual({ next: 'A', current: 'A', trial: false });
    expect((await readBootEnvFile(dir))?.lastBoot).toMatchObject({ slot: 'A', fellBackFrom: 'B' });
  });

  it('setNext(current) cancels a pending switch; markGood does not cancel it', async () => {
    const env = new SimBootEnv(dir);
    await env.setNext('B');
    await env.markGood();
    expect(await env.read()).toEqual({ next: 'B', current: 'A', trial: true });
    await env.setNext('A');
    expect(await env.read()).toEqual({ next: 'A', current: 'A', trial: false });
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'A', trial: false });
  });

  it('rejects a corrupted boot environment with a typed error', async () => {
    await writeFile(join(dir, 'bootenv.json'), '{"next":"C"');
    await expect(new SimBootEnv(dir).read()).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_BOOTENV_INVALID'));
    await writeFile(join(dir, 'bootenv.json'), JSON.stringify({ next: 'C', current: 'A', trial: false, tries: 0, maxTries: 3 }));
    await expect(new SimBootEnv(dir).read()).rejects.toSatisfy((e) => isAgentError(e, 'SLOT_BOOTENV_INVALID'));
  });

  it('writes atomically: no temporary files are left behind', async () => {
    const env = new SimBootEnv(dir);
    await env.setNext('B');
    await simulateBoot(dir);
    expect((await readdir(dir)).sort()).toEqual(['bootenv.json']);
  });
});

describe('simulateBoot on a damaged environment (the BootEnv contract)', () => {
  const damaged: Array<[string, string]> = [
    ['unterminated', '{"next":"C"'],
    ['zero bytes', ''],
    ['empty', '\n'],
    ['wrong values', JSON.stringify({ next: 'B', current: 'B', trial: false, tries: 0, maxTries: 0 })],
    ['garbage', '\u0000\u00ff\u0013 not json'],
  ];
  for (const [kind, text] of damaged) {
    it(`${kind}: boots the slot \`recover\` names, keeps the damaged file aside, writes a fresh env`, async () => {
      await writeFile(join(dir, 'slot-B.img'), 'image B');
      await writeFile(join(dir, 'bootenv.json'), text);
      const reasons: string[] = [];
      const b = await simulateBoot(dir, { recover: async (why) => (reasons.push(why), 'B') });
      expect(b).toMatchObject({ slot: 'B', trial: false, envRecovered: { reason: reasons[0] } });
      expect(reasons).toHaveLength(1);
      expect(await readBootEnvFile(dir)).toMatchObject({ next: 'B', current: 'B', trial: false, tries: 0 });
      const aside = (await readdir(dir)).filter((f) => f.startsWith('bootenv.json.damaged-'));
      expect(aside).toHaveLength(1);
      expect(await readFile(join(dir, aside[0] ?? ''), 'utf8')).toBe(text);
    });
  }

  it('without a recover callback: the first non-empty slot (A first)', async () => {
    await writeFile(join(dir, 'slot-B.img'), 'image B');
    await writeFile(join(dir, 'bootenv.json'), '{');
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'B', envRecovered: { reason: expect.stringContaining('JSON') } });
    await writeFile(join(dir, 'slot-A.img'), 'image A');
    await writeFile(join(dir, 'bootenv.json'), '{');
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'A' });
  });

  it('an environment naming an empty slot: the bootloader falls back to the slot with an image', async () => {
    await writeFile(join(dir, 'slot-A.img'), 'image A');
    await new SimBootEnv(dir).setNext('B');
    expect(await simulateBoot(dir)).toMatchObject({ slot: 'A', fellBackFrom: 'B', trial: false });
  });
});

describe('SimRebooter', () => {
  it('records the reason, exits 0, and the next boot reports the reason once', async () => {
    const codes: number[] = [];
    const r = new SimRebooter(dir, { exit: (c) => codes.push(c) });
    await new SimBootEnv(dir).setNext('B');
    await r.reboot('upgrade to fw-2.bin (urgent)');
    expect(codes).toEqual([0]);
    expect(JSON.parse(await readFile(join(dir, REBOOT_FILE), 'utf8'))).toMatchObject({ reason: 'upgrade to fw-2.bin (urgent)' });
    const b = await simulateBoot(dir);
    expect(b).toMatchObject({ slot: 'B', rebootReason: 'upgrade to fw-2.bin (urgent)' });
    const power = await simulateBoot(dir);
    expect(power.rebootReason).toBeUndefined();
    expect(power).toMatchObject({ slot: 'B', tries: 2 });
  });
});
