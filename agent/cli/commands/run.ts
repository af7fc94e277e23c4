/**
 * `cpe-agent run [--config FILE] [--iface IF] [--vendor-class VC] [--platform sim|board]
 *                [--state-dir DIR] [--once] [--log-format json|text]
 *                [--sim-dir DIR] [--factory-image FILE] [--factory-version V] [--resolv-conf PATH]`
 *
 * The daemon: DHCP client + option 43 upgrade (agent/daemon). Flags override the config
 * file. Logs go to stderr (one line per event), the progress bar too (on a TTY).
 * With --once it exits when idle and prints one outcome line on stdout:
 *   exit 0  up-to-date | staged (awaiting reboot) | rebooted | no-offer | refused | ignoring-provisioning
 *   exit 3  gave-up (until the next DHCP ACK) | verify-failed | invalid-offer
 *   exit 1  no-lease (no DHCP lease within dhcp.leaseTimeoutSeconds)
 * With an `snmp` config section the SNMP agent (agent/snmp) runs beside the daemon.
 * An urgent upgrade ends the process through the sim reboot (exit 0) right after DHCPRELEASE.
 *
 * SIGTERM/SIGINT: the daemon cancels a download, discards the partial slot, leaves the boot
 * environment alone, writes the state and resolves 'stopped' (exit 0) within about 2 s; the
 * `exiting` line is the last thing logged. The process then ends at once even if a socket is
 * still closing (EXIT_LINGER_MS), so nothing can happen after that line. A second signal
 * while stopping ends the process immediately (exit 130/143).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../log.ts';
import { createDaemon } from '../../daemon/wire.ts';
import type { Outcome } from '../../daemon/service.ts';
import { AgentError } from '../../errors.ts';
import { isSea } from 'node:sea';
import { selfCommand } from '../../runtime-flags.ts';
import { ChildDigester } from '../../transfer/digest-child.ts';
import { compactHeapSoon } from '../../util/heap.ts';

interface RunOptions {
  config?: string;
  iface?: string;
  vendorClass?: string;
  platform?: string;
  stateDir?: string;
  once?: boolean;
  logFormat?: string;
  simDir?: string;
  factoryImage?: string;
  factoryVersion?: string;
  resolvConf?: string;
}

/** After the exit line the process ends within this time even if a handle is still open. */
export const EXIT_LINGER_MS = 200;

export const OUTCOME_EXIT: Readonly<Record<Outcome, number>> = {
  'up-to-date': 0,
  staged: 0,
  rebooted: 0,
  'no-offer': 0,
  refused: 0,
  'ignoring-provisioning': 0,
  stopped: 0,
  'gave-up': 3,
  'verify-failed': 3,
  'invalid-offer': 3,
  'no-lease': 1,
};

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the agent: DHCP client with option 43, upgrade decision, download, stage, activation')
    .option('--config <file>', 'JSON config file (docs/config.md)')
    .option('--iface <if>', 'WAN interface (config: iface)')
    .option('--vendor-class <vc>', 'option 60 vendor class (config: vendorClass)')
    .option('--platform <backend>', 'platform backend: sim | board (config: platform.backend)')
    .option('--state-dir <dir>', 'persistent state directory (config: stateDir)')
    .option('--once', 'exit when idle: up to date, staged, given up, or after an urgent reboot')
    .option('--log-format <fmt>', 'json | text (config: log.format)')
    .option('--sim-dir <dir>', 'sim platform directory (config: platform.sim.dir)')
    .option('--factory-image <file>', 'sim: image put into slot A on the first start (config: platform.sim.factoryImage)')
    .option('--factory-version <v>', 'sim: version of the factory image (config: platform.sim.factoryVersion)')
    .option('--resolv-conf <path>', 'where DNS servers are written (config: net.resolvConf)')
    .action(async (o: RunOptions) => {
      // the boot checks hash the slots in a `cpe-agent digest` child (node:crypto stays out of
      // the daemon); started now, its start-up overlaps ours
      const digester = new ChildDigester(selfCommand(process.argv, process.execArgv, process.execPath, isSea()));
      digester.prepare();
      try {
        await runDaemon(o, digester);
      } finally {
        digester.close();
      }
    });
}

async function runDaemon(o: RunOptions, digester: ChildDigester): Promise<void> {
  if (o.logFormat !== undefined && o.logFormat !== 'json' && o.logFormat !== 'text') {
    throw new AgentError('CLI_USAGE', `--log-format must be json or text, got ${JSON.stringify(o.logFormat)}`);
  }
  const config = loadConfig({
    ...(o.config ? { file: o.config } : {}),
    overrides: {
      iface: o.iface,
      vendorClass: o.vendorClass,
      'platform.backend': o.platform,
      stateDir: o.stateDir,
      'log.format': o.logFormat,
      'platform.sim.dir': o.simDir,
      'platform.sim.factoryImage': o.factoryImage,
      'platform.sim.factoryVersion': o.factoryVersion,
      'net.resolvConf': o.resolvConf,
    },
  });
  // The `exiting` line closes the log: whatever still runs after it (a socket closing)
  // writes nothing.
  let closed = false;
  const log = createLogger({ format: config.log.format, level: config.log.level, destination: { write: (s: string) => (closed ? true : process.stderr.write(s)) } });
  log.info(
    { event: 'start', iface: config.iface, vendorClass: config.vendorClass, stateDir: config.stateDir, platform: config.platform.backend, once: o.once === true },
    `cpe-agent starting on ${config.iface} as ${config.vendorClass}`,
  );
  digester.log = log;
  const daemon = await createDaemon(config, log, { once: o.once === true, digest: digester.digest, onIdle: compactHeapSoon });
  // agent/snmp (and net-snmp) is loaded only when the config has an `snmp` section
  const snmp = config.snmp ? await (await import('../../snmp/index.ts')).startSnmp(config, daemon, log, compactHeapSoon) : undefined;
  let signalled = false;
  const onSignal = (sig: 'SIGTERM' | 'SIGINT'): void => {
    if (signalled) process.exit(sig === 'SIGINT' ? 130 : 143);
    signalled = true;
    void daemon.stop(sig);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const outcome = await daemon.run().finally(() => snmp?.close());
  const run = daemon.snapshot.running;
  const staged = daemon.snapshot.staged;
  const img = staged ?? run;
  const where = img ? ` (${staged ? 'staged' : 'running'} slot ${img.slot} version ${img.version ?? '?'} md5 ${img.md5})` : '';
  log.info({ event: 'exit', outcome }, `exiting: ${outcome}`);
  closed = true;
  process.stdout.write(`cpe-agent: ${outcome}${where}\n`);
  const code = OUTCOME_EXIT[outcome];
  process.exitCode = code;
  // The daemon is finished; a socket still closing must not keep the process (and so
  // the 2 s promise) hostage. stdout/stderr are synchronous for files and pipes.
  setTimeout(() => process.exit(code), EXIT_LINGER_MS).unref();
}
