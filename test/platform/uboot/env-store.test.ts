import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentCopy, decodeEnv, encodeEnv } from '../../../platform/uboot/env-format.ts';
import { UBootEnvStore } from '../../../platform/uboot/env-store.ts';
import { describeWithFwTools, fwConfig, fwPrintenv, fwSetenv } from './fw-tools.ts';

const root = mkdtempSync(join(tmpdir(), 'cpe-ubootenv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function fresh(): string {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
}
const SIZE = 0x4000;

describe('U-Boot env block codec', () => {
  it('round-trips a single and a redundant copy; the CRC covers the whole data area', () => {
    for (const redundant of [false, true]) {
      const b = encodeEnv({ boot_slot: 'B', bootcount: '2' }, { size: SIZE, redundant, flags: 7 });
      expect(b.length).toBe(SIZE);
      expect(decodeEnv(b, { redundant })).toEqual({ vars: { boot_slot: 'B', bootcount: '2' }, flags: redundant ? 7 : 0 });
      const bad = Buffer.from(b);
      bad[SIZE - 1] = 1; // padding is covered too
      expect(decodeEnv(bad, { redundant })).toBeNull();
    }
  });

  it('refuses names with = or spaces, NUL in values, and an environment that does not fit', () => {
    expect(() => encodeEnv({ 'a=b': '1' }, { size: SIZE, redundant: true })).toThrow(expect.objectContaining({ code: 'UBOOT_ENV_INVALID_VAR' }));
    expect(() => encodeEnv({ a: 'x\0y' }, { size: SIZE, redundant: true })).toThrow(expect.objectContaining({ code: 'UBOOT_ENV_INVALID_VAR' }));
    expect(() => encodeEnv({ a: 'x'.repeat(40) }, { size: 32, redundant: true })).toThrow(expect.objectContaining({ code: 'UBOOT_ENV_TOO_BIG' }));
  });

  it('picks the newer copy: higher flags, 0 after 255, copy 1 on a tie, the valid one when one is bad', () => {
    const c = (flags: number) => ({ vars: {}, flags });
    expect(currentCopy(c(1), c(2))).toBe(1);
    expect(currentCopy(c(2), c(1))).toBe(0);
    expect(currentCopy(c(255), c(0))).toBe(1);
    expect(currentCopy(c(0), c(255))).toBe(0);
    expect(currentCopy(c(5), c(5))).toBe(0);
    expect(currentCopy(null, c(0))).toBe(1);
    expect(currentCopy(c(9), null)).toBe(0);
    expect(currentCopy(null, null)).toBeNull();
  });
});

describe('U-Boot env store (redundant files)', () => {
  it('writes alternate copies with flags + 1; a torn write of the new copy leaves the old one current', async () => {
    const d = fresh();
    const files = [join(d, 'env1'), join(d, 'env2')];
    const st = new UBootEnvStore({ copies: files.map((path) => ({ path })), size: SIZE });
    expect(await st.read()).toBeNull(); // files missing
    await st.update({}, (v) => ({ ...v, boot_slot: 'A' }));
    expect(await st.read()).toEqual({ vars: { boot_slot: 'A' }, copy: 0, flags: 1 });
    await st.update({}, (v) => ({ ...v, boot_slot: 'B' }));
    expect(await st.read()).toEqual({ vars: { boot_slot: 'B' }, copy: 1, flags: 2 });
    // power cut in the middle of the third write (it goes to copy 0): half old, half new
    const good = readFileSync(files[0] as string);
    const next = encodeEnv({ boot_slot: 'A', bootcount: '1' }, { size: SIZE, redundant: true, flags: 3 });
    writeFileSync(files[0] as string, Buffer.concat([next.subarray(0, 8), good.subarray(8)]));
    expect((await st.read())?.vars).toEqual({ boot_slot: 'B' });
    // both bad: defaults
    writeFileSync(files[1] as string, Buffer.alloc(SIZE, 0xff));
    expect(await st.read()).toBeNull();
    expect(await st.update({ boot_slot: 'A' }, (v) => v)).toBe(true);
    expect((await st.read())?.vars).toEqual({ boot_slot: 'A' });
  });

  it('a change that returns null writes nothing', async () => {
    const d = fresh();
    const st = new UBootEnvStore({ copies: [{ path: join(d, 'e1') }, { path: join(d, 'e2') }], size: SIZE });
    expect(await st.update({}, () => null)).toBe(false);
    expect(await st.read()).toBeNull();
  });

  it('a copy at an offset inside a larger file (a raw partition) leaves the bytes around it alone', async () => {
    const d = fresh();
    const dev = join(d, 'dev');
    writeFileSync(dev, Buffer.alloc(4 * SIZE, 0xaa));
    const st = new UBootEnvStore({ copies: [{ path: dev, offset: SIZE }, { path: dev, offset: 2 * SIZE }], size: SIZE });
    await st.update({}, () => ({ x: '1' }));
    await st.update({}, (v) => ({ ...v, y: '2' }));
    const b = readFileSync(dev);
    expect(b.subarray(0, SIZE).every((x) => x === 0xaa)).toBe(true);
    expect(b.subarray(3 * SIZE).every((x) => x === 0xaa)).toBe(true);
    expect((await st.read())?.vars).toEqual({ x: '1', y: '2' });
  });
});

describeWithFwTools('U-Boot env store against libubootenv (fw_printenv / fw_setenv)', () => {
  it('what we write, fw_printenv reads; what fw_setenv writes, we read; both ways over several writes', async () => {
    const d = fresh();
    const files = [join(d, 'uboot.env'), join(d, 'uboot-redund.env')];
    for (const f of files) writeFileSync(f, Buffer.alloc(SIZE));
    const fw = fwConfig(d, files, SIZE);
    const st = new UBootEnvStore({ copies: files.map((path) => ({ path })), size: SIZE });
    await st.update({}, () => ({ boot_slot: 'A', bootlimit: '3' }));
    expect(fwPrintenv(fw)).toEqual({ boot_slot: 'A', bootlimit: '3' });
    fwSetenv(fw, 'boot_slot', 'B');
    fwSetenv(fw, 'upgrade_available', '1');
    expect((await st.read())?.vars).toEqual({ boot_slot: 'B', bootlimit: '3', upgrade_available: '1' });
    await st.update({}, (v) => ({ ...v, bootcount: '1' }));
    expect(fwPrintenv(fw)).toEqual({ boot_slot: 'B', bootlimit: '3', upgrade_available: '1', bootcount: '1' });
    fwSetenv(fw, 'bootcount', '2');
    expect((await st.read())?.vars.bootcount).toBe('2');
  });

  it('agrees with fw_printenv on which copy is current across the flags wrap-around', async () => {
    const d = fresh();
    const files = [join(d, 'e1'), join(d, 'e2')];
    const fw = fwConfig(d, files, SIZE);
    const st = new UBootEnvStore({ copies: files.map((path) => ({ path })), size: SIZE });
    for (const [f1, f2] of [[1, 2], [2, 1], [255, 0], [0, 255], [5, 5], [254, 255], [255, 1]] as const) {
      writeFileSync(files[0] as string, encodeEnv({ x: 'one' }, { size: SIZE, redundant: true, flags: f1 }));
      writeFileSync(files[1] as string, encodeEnv({ x: 'two' }, { size: SIZE, redundant: true, flags: f2 }));
      expect((await st.read())?.vars.x, `flags ${f1}/${f2}`).toBe(fwPrintenv(fw).x);
    }
  });
});
