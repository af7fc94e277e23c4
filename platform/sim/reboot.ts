/**
 * Sim reboot: records why (reboot.json, written atomically, consumed by simulateBoot() at
 * the next start) and ends the process with exit code 0. The next start of the agent boots
 * the slot the boot environment names, like a real bootloader would.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../agent/util/atomic-file.ts';
import { silentLogger, type Logger } from '../../agent/log.ts';
import type { Rebooter } from '../types.ts';
import { REBOOT_FILE } from './boot-env.ts';

export class SimRebooter implements Rebooter {
  readonly dir: string;
  private readonly log: Logger;
  private readonly exit: (code: number) => void;
  private readonly now: () => number;

  constructor(dir: string, opts: { log?: Logger; exit?: (code: number) => void; now?: () => number } = {}) {
    this.dir = dir;
    this.log = opts.log ?? silentLogger();
    this.exit = opts.exit ?? ((code) => process.exit(code));
    this.now = opts.now ?? Date.now;
  }

  async reboot(reason: string): Promise<void> {
    const record = { reason, at: new Date(this.now()).toISOString() };
    await writeFileAtomic(join(this.dir, REBOOT_FILE), JSON.stringify(record) + '\n', { code: 'SLOT_REBOOT_RECORD' });
    this.log.warn({ reason }, `reboot: ${reason} (sim: the process ends; the next start boots the slot named in the boot environment)`);
    this.log.flush?.();
    this.exit(0);
  }
}
