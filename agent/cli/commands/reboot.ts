/**
 * `cpe-agent reboot [--state-dir DIR] [--config FILE]` — the local "user intervention"
 * reboot that activates a staged image.
 *
 * With a daemon running on the state dir, the request goes over its control socket: the
 * daemon sends DHCPRELEASE for its lease, then reboots through the platform. With no daemon
 * (nobody holds a lease), the command records the request in the state and reboots through
 * the platform the daemon last ran with (sim: the next start boots the slot the boot
 * environment names).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../log.ts';
import { sendControl } from '../../daemon/control.ts';
import { AgentError } from '../../errors.ts';
import { StateStore, withHistory } from '../../state/store.ts';
import { openSimAgentPlatform } from '../../daemon/platform-sim.ts';
import { openAgentPlatform } from '../../daemon/platform.ts';
import { DEFAULT_VERSION_PATTERN } from '../../upgrade/version.ts';

export function registerReboot(program: Command): void {
  program
    .command('reboot')
    .description('reboot into the staged image (via the running daemon: DHCPRELEASE first)')
    .option('--state-dir <dir>', 'state directory (config: stateDir)')
    .option('--config <file>', 'JSON config file (for stateDir)')
    .action(async (o: { stateDir?: string; config?: string }) => {
      const cfg = loadConfig({ ...(o.config ? { file: o.config } : {}), overrides: { stateDir: o.stateDir } });
      const reply = await sendControl(cfg.stateDir, { cmd: 'reboot', source: 'cli' });
      if (reply) {
        if (!reply.ok) throw new AgentError('CLI_REBOOT_REFUSED', `the daemon refused: ${reply.message}`);
        process.stdout.write(`reboot: daemon is ${reply.message}\n`);
        return;
      }
      const log = createLogger({ format: cfg.log.format, level: cfg.log.level });
      const store = new StateStore(cfg.stateDir, log);
      const loaded = await store.load();
      if (loaded.kind !== 'ok' || !loaded.state.platform) {
        throw new AgentError('CLI_REBOOT_NO_STATE', `no agent state in ${cfg.stateDir}: run the agent first`, { stateDir: cfg.stateDir });
      }
      const s = loaded.state;
      const ref = loaded.state.platform;
      const now = Date.now();
      const staged = s.staged;
      await store.save(
        withHistory(staged ? { ...s, staged: { ...staged, rebootRequestedAt: now } } : s, {
          at: now,
          event: 'reboot-requested',
          ...(staged ? { slot: staged.slot, version: staged.version, md5: staged.md5 } : {}),
          detail: 'reboot requested (cli, no daemon running)',
        }),
      );
      const platform =
        ref.backend === 'sim' ? await openSimAgentPlatform({ dir: ref.dir, versionPattern: DEFAULT_VERSION_PATTERN }, log) : await openAgentPlatform(cfg, log);
      process.stdout.write(
        staged
          ? `reboot: no daemon running; rebooting into slot ${staged.slot} (version ${staged.version ?? '?'})\n`
          : 'reboot: no daemon running and no staged image; rebooting\n',
      );
      await platform.rebooter.reboot(staged ? `reboot requested (cli): activate slot ${staged.slot}` : 'reboot requested (cli)');
    });
}
