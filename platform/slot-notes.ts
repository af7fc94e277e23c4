/**
 * "Version file" of a slot: `slot-<X>.version.json` (sim: beside the slot file; board: in the state dir), written when an
 * image is installed (factory) or staged. A real image carries its version inside (e.g. a
 * file in its root filesystem); the sim's images are opaque bytes, so the note holds the
 * version and is bound to the image by its MD5: a note whose MD5 is not the slot's is
 * ignored. Read only to rebuild a lost state (a corrupt state.json).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../agent/util/zod.ts';
import { writeFileAtomic } from '../agent/util/atomic-file.ts';
import type { SlotName } from './types.ts';

const noteSchema = z.object({
  md5: z.string().check(z.regex(/^[0-9a-f]{32}$/)),
  version: z.nullable(z.string()),
  file: z.nullable(z.string()),
});
export type SlotNote = z.infer<typeof noteSchema>;

export function slotNotePath(dir: string, slot: SlotName): string {
  return join(dir, `slot-${slot}.version.json`);
}

export async function writeSlotNote(dir: string, slot: SlotName, note: SlotNote): Promise<void> {
  await writeFileAtomic(slotNotePath(dir, slot), JSON.stringify(note) + '\n', { code: 'SLOT_IO', noSpaceCode: 'SLOT_NO_SPACE' });
}

/** The note, or null when missing or unreadable (it is only a hint, checked by MD5). */
export async function readSlotNote(dir: string, slot: SlotName): Promise<SlotNote | null> {
  try {
    const r = noteSchema.safeParse(JSON.parse(await readFile(slotNotePath(dir, slot), 'utf8')));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
