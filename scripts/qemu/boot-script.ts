/**
 * The decision scripts/qemu/boot.cmd (the QEMU modem's U-Boot script) takes, ported to
 * TypeScript line by line for the storage-level power-cut soak (powercut-storage.ts). Pure:
 * the two environment copies in, the slot to boot and the environment copy to write out.
 *
 * - a copy is valid when it is exactly 16 KiB and its CRC matches; the current one is the
 *   valid copy with the newer flags counter (0 beats 255); none valid: defaults, slot A;
 * - `env import` with boot.cmd's variable list: listed variables missing from the copy are
 *   deleted (U-Boot's himport_r), so only the copy's values count;
 * - on trial (upgrade_available=1): bootcount + 1 (hex, like setexpr); past bootlimit: the
 *   other slot, fallback_from, no trial;
 * - slots tried in the order boot_slot, other: skipped when bootable_X=0 or `loadable(X)` is
 *   false (ext4load fails); a trial slot that cannot load falls back at once;
 * - something changed: the whole list is exported into the copy NOT read (flags + 1, 255 → 0).
 */
import { currentCopy, decodeEnv, encodeEnv } from '../../platform/uboot/env-format.ts';
import type { SlotName } from '../../platform/types.ts';

export const BOOT_ENV_SIZE = 0x4000;
export const BOOT_ENV_FILES = ['uboot.env', 'uboot-redund.env'] as const;
const VARS = ['boot_slot', 'upgrade_available', 'bootcount', 'bootlimit', 'bootable_A', 'bootable_B', 'image_size_A', 'image_size_B', 'fallback_from'];

export interface BootDecision {
  /** the slot booted; null: "no slot can be booted" */
  slot: SlotName | null;
  /** the environment copy used: 1, 2, or 0 for none valid (defaults) */
  copy: 0 | 1 | 2;
  vars: Record<string, string>;
  /** the copy boot.cmd writes back (fatwrite) when something changed */
  write?: { file: (typeof BOOT_ENV_FILES)[number]; block: Buffer };
  /** what the console would say */
  log: string[];
}

const hex = (s: string | undefined): number => Number.parseInt(s ?? '0', 16) || 0;

export function decideBoot(copy1: Uint8Array | null, copy2: Uint8Array | null, loadable: (slot: SlotName) => boolean): BootDecision {
  const log: string[] = [];
  const dec = (b: Uint8Array | null) => (b && b.length === BOOT_ENV_SIZE ? decodeEnv(b, { redundant: true }) : null);
  const c1 = dec(copy1);
  const c2 = dec(copy2);
  const cur = currentCopy(c1, c2);
  const use: 0 | 1 | 2 = cur === null ? 0 : cur === 0 ? 1 : 2;
  let flags = use === 1 ? (c1?.flags ?? 0) : use === 2 ? (c2?.flags ?? 0) : 0;
  let v: Record<string, string> = { boot_slot: 'A', upgrade_available: '0', bootcount: '0', bootlimit: '3' };
  if (use === 0) {
    log.push('cpe: no valid U-Boot environment copy: defaults (slot A, no trial)');
  } else {
    const src = (use === 1 ? c1 : c2)?.vars ?? {};
    v = {};
    for (const k of VARS) if (src[k] !== undefined && src[k] !== '') v[k] = src[k];
    log.push(`cpe: environment copy ${use} (flags ${flags.toString(16)})`);
  }
  if (v.boot_slot !== 'A' && v.boot_slot !== 'B') {
    v.boot_slot = 'A';
    v.upgrade_available = '0';
  }
  v.bootcount ??= '0';
  v.bootlimit ??= '3';

  let dirty = false;
  if (v.upgrade_available === '1') {
    v.bootcount = (hex(v.bootcount) + 1).toString(16);
    dirty = true;
    log.push(`cpe: slot ${v.boot_slot} on trial, boot ${v.bootcount} of ${v.bootlimit}`);
    if (hex(v.bootcount) > hex(v.bootlimit)) {
      log.push(`cpe: slot ${v.boot_slot} never became healthy: falling back`);
      v.fallback_from = v.boot_slot;
      v.boot_slot = v.boot_slot === 'A' ? 'B' : 'A';
      v.upgrade_available = '0';
      v.bootcount = '0';
    }
  }

  const first = v.boot_slot as SlotName;
  const other: SlotName = first === 'A' ? 'B' : 'A';
  let loaded: SlotName | null = null;
  for (const s of [first, other]) {
    if (loaded) break;
    if (v[`bootable_${s}`] === '0') log.push(`cpe: slot ${s} is marked not bootable`);
    else if (loadable(s)) loaded = s;
    else log.push(`cpe: slot ${s} holds no bootable kernel`);
  }
  if (loaded && loaded !== first && v.upgrade_available === '1') {
    v.fallback_from = first;
    v.boot_slot = loaded;
    v.upgrade_available = '0';
    v.bootcount = '0';
    dirty = true;
  }

  let write: BootDecision['write'];
  if (dirty) {
    flags = flags + 1 > 0xff ? 0 : flags + 1;
    const out: Record<string, string> = {};
    for (const k of VARS) if (v[k] !== undefined && v[k] !== '') out[k] = v[k];
    write = { file: use === 1 ? BOOT_ENV_FILES[1] : BOOT_ENV_FILES[0], block: encodeEnv(out, { size: BOOT_ENV_SIZE, redundant: true, flags }) };
  }
  log.push(loaded ? `cpe: booting slot ${loaded}` : 'cpe: no slot can be booted');
  return { slot: loaded, copy: use, vars: v, ...(write ? { write } : {}), log };
}
