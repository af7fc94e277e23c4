/**
 * `cpe-agent status [--json] [--state-dir DIR] [--config FILE]`
 *
 * The status model (agent/status) read from the state directory: with --json one object
 * { state, stateText, running{slot,version,md5,…}, staged, attempts, lastError, lastOffer
 * (password masked ***), lastDecision, daemon{running,pid,phase,progress,lease}, bootCount,
 * stateFile{status,detail,at}, history }; without it a readable summary. A daemon gone
 * without a clean exit (kill -9: runtime.json of a dead pid, control.sock) is "not running"
 * with its last recorded step (daemon.lastSeen). Read-only; works with or without a daemon.
 * Exit 0; 1 when the state file is corrupt (state `state-corrupt`; the daemon keeps it aside
 * and rebuilds the state from the slots on its next start).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { readStatus } from '../../status/files.ts';
import { renderStatusText } from '../../status/render.ts';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the agent status (running/staged image, attempts, last error, last offer)')
    .option('--json', 'one JSON object')
    .option('--state-dir <dir>', 'state directory (config: stateDir)')
    .option('--config <file>', 'JSON config file (for stateDir)')
    .action(async (o: { json?: boolean; stateDir?: string; config?: string }) => {
      const cfg = loadConfig({ ...(o.config ? { file: o.config } : {}), overrides: { stateDir: o.stateDir } });
      const r = await readStatus(cfg.stateDir);
      if (o.json) {
        process.stdout.write(JSON.stringify(r.kind === 'invalid' ? { ...r.status, stateFileError: r.reason } : r.status, null, 2) + '\n');
      } else {
        process.stdout.write(renderStatusText(r.status));
      }
      if (r.kind === 'invalid') process.exitCode = 1;
    });
}
