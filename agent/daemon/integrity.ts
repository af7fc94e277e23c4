/**
 * What runs is what was verified (issue 8.2/8.3): slots are read back and compared with the
 * digests recorded when their image was staged or installed.
 *
 * - checkImage(): the first `size` bytes of the slot against the record (size, MD5, and
 *   SHA-256 when recorded);
 * - pickBootSlot(): the slot to boot when the boot environment is damaged: the first record
 *   that verifies, in the order running (the committed image), previous, staged; without
 *   one, the first non-empty slot, A first.
 *
 * Results are memoized per start (nothing writes a slot between boot and these checks).
 */
import type { SlotName } from '../../platform/types.ts';
import type { PersistentState } from '../state/schema.ts';
import type { ImageRecord } from '../upgrade/image.ts';
import type { AgentPlatform, SlotContent } from './platform.ts';

export type ImageCheck = { ok: true } | { ok: false; found: SlotContent | null };

export function matches(rec: Pick<ImageRecord, 'size' | 'md5' | 'sha256'>, found: SlotContent | null): boolean {
  if (!found) return false;
  return found.size === rec.size && found.md5 === rec.md5 && (rec.sha256 === null || found.sha256 === rec.sha256);
}

export class SlotVerifier {
  private readonly platform: AgentPlatform;
  private readonly memo = new Map<string, Promise<ImageCheck>>();

  constructor(platform: AgentPlatform) {
    this.platform = platform;
  }

  /** Reads the slot back and compares it with the record. */
  check(rec: Pick<ImageRecord, 'slot' | 'size' | 'md5' | 'sha256'>): Promise<ImageCheck> {
    const key = `${rec.slot}:${rec.size}:${rec.md5}:${rec.sha256 ?? ''}`;
    let p = this.memo.get(key);
    if (!p) {
      p = this.platform.digestSlot(rec.slot, rec.size).then((found): ImageCheck => (matches(rec, found) ? { ok: true } : { ok: false, found }));
      this.memo.set(key, p);
    }
    return p;
  }

  /** Forget results (after a slot was written or discarded). */
  reset(): void {
    this.memo.clear();
  }
}

export interface BootPick {
  slot: SlotName;
  /** the record that verified; null: no recorded image verified (first non-empty slot) */
  verified: ImageRecord | null;
}

export async function pickBootSlot(s: PersistentState, v: SlotVerifier, platform: AgentPlatform): Promise<BootPick> {
  for (const rec of [s.running, s.previous, s.staged]) {
    if (rec && (await v.check(rec)).ok) return { slot: rec.slot, verified: rec };
  }
  for (const slot of ['A', 'B'] as const) {
    if (await platform.inspectSlot(slot)) return { slot, verified: null };
  }
  return { slot: 'A', verified: null };
}
