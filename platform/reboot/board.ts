/**
 * Reboot on a real board. Node has no reboot(2): the data is flushed with sync(1), then
 *   - `sysrq` (default): 'b' written to /proc/sysrq-trigger, the kernel's immediate
 *     reboot (works for root whatever kernel.sysrq says; needs CONFIG_MAGIC_SYSRQ, which
 *     Debian's kernels have);
 *   - `command`: an argv run to do it (e.g. busybox `reboot -f`).
 * Files the agent wrote are already fsynced; sync(1) covers the rest (logs).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AgentError } from '../../agent/errors.ts';
import { silentLogger, type Logger } from '../../agent/log.ts';
import type { Rebooter } from '../types.ts';

const run = promisify(execFile);

export interface BoardRebooterOptions {
  method?: 'sysrq' | 'command';
  /** argv for method `command` */
  command?: readonly string[];
  /** tests point this at a file */
  sysrqTrigger?: string;
  /** argv of the flush step; default ['sync'] */
  sync?: readonly string[];
  log?: Logger;
}

export class BoardRebooter implements Rebooter {
  private readonly method: 'sysrq' | 'command';
  private readonly command: readonly string[];
  private readonly trigger: string;
  private readonly sync: readonly string[];
  private readonly log: Logger;

  constructor(opts: BoardRebooterOptions = {}) {
    this.method = opts.method ?? 'sysrq';
    this.command = opts.command ?? ['reboot', '-f'];
    this.trigger = opts.sysrqTrigger ?? '/proc/sysrq-trigger';
    this.sync = opts.sync ?? ['sync'];
    this.log = opts.log ?? silentLogger();
    if (this.method === 'command' && this.command.length === 0) throw new AgentError('CONFIG_INVALID', 'reboot command is empty');
  }

  async reboot(reason: string): Promise<void> {
    this.log.warn({ event: 'reboot', reason, method: this.method }, `reboot: ${reason}`);
    this.log.flush?.();
    const [syncCmd, ...syncArgs] = this.sync;
    if (syncCmd) {
      // A failing sync must not keep the board from rebooting: the agent's own files are fsynced.
      await run(syncCmd, syncArgs, { timeout: 30_000 }).catch((e: unknown) => {
        this.log.warn({ event: 'reboot.sync-failed' }, `sync failed before reboot: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    try {
      if (this.method === 'sysrq') {
        await writeFile(this.trigger, 'b');
      } else {
        const [cmd, ...args] = this.command;
        await run(cmd as string, args, { timeout: 30_000 });
      }
    } catch (e) {
      throw new AgentError('REBOOT_FAILED', `reboot (${this.method}) failed: ${e instanceof Error ? e.message : String(e)}`, { method: this.method }, { cause: e });
    }
  }
}
