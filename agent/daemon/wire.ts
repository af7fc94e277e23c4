/**
 * Builds a Daemon from the validated config: the platform (sim or board), DHCP runner on the configured
 * interface + net backend, TFTP/FTP fetchers, stage(), progress renderer.
 * Footprint (README): what an idle daemon does not use is loaded on first use: the TFTP and FTP
 * clients (lazyFetcher), the signature code (only when policy.signature is not off), the
 * platform backend the config names (platform.ts), the TTY progress bar (progress.ts).
 */
import type { Logger } from '../log.ts';
import type { AgentConfig } from '../config/schema.ts';
import { DhcpRunner } from '../dhcp/runner.ts';
import { IpNet } from '../../platform/net/ip.ts';
import { DryRunNet } from '../../platform/net/dry-run.ts';
import type { Fetcher } from '../transfer/types.ts';
import { createProgressRenderer } from '../transfer/progress.ts';
import { stage } from '../upgrade/stage.ts';
import type { ImageCheckFactory } from '../image/policy.ts';
import { StateStore } from '../state/store.ts';
import { openAgentPlatform } from './platform.ts';
import type { StreamDigester } from '../transfer/digest-child.ts';
import { Daemon } from './service.ts';
import type { DhcpFactory } from './ports.ts';
import type { NetConfigurator } from '../../platform/types.ts';

/** `opts.digest`: how slots are hashed (run: a child process; default in-process). */
export async function createDaemon(config: AgentConfig, log: Logger, opts: { once: boolean; digest?: StreamDigester; onIdle?: () => void }): Promise<Daemon> {
  const store = new StateStore(config.stateDir, log);
  await store.ensureDir();
  const platform = await openAgentPlatform(config, log, undefined, opts.digest);
  const net: NetConfigurator = config.net.backend === 'ip' ? new IpNet({ resolvConf: config.net.resolvConf }) : new DryRunNet();
  const dhcp: DhcpFactory = (cb) => {
    const runner = new DhcpRunner({
      iface: config.iface,
      vendorClass: config.vendorClass,
      net,
      log,
      stateDir: config.stateDir,
      arpCheck: config.dhcp.arpCheck,
      onAck: cb.onAck,
      onLost: cb.onLost,
    });
    return { start: () => runner.start(), release: () => runner.release(), stop: () => runner.stop() };
  };
  const fetchers = {
    tftp: lazyFetcher(async () =>
      (await import('../transfer/tftp-socket.ts')).createTftpFetcher({
        blksize: config.tftp.blksize,
        windowsize: config.tftp.windowsize,
        timeout: Math.min(255, Math.max(1, Math.round(config.tftp.timeoutSeconds))),
        retries: config.tftp.retries,
        log,
      }),
    ),
    ftp: lazyFetcher(async () =>
      (await import('../transfer/ftp.ts')).createFtpFetcher({ log, idleTimeoutMs: config.ftp.timeoutSeconds * 1000, connectTimeoutMs: config.ftp.timeoutSeconds * 1000 }),
    ),
  };
  const policy = config.policy;
  const imageCheck: ImageCheckFactory =
    policy.signature === 'off'
      ? () => undefined
      : (await import('../image/policy.ts')).imageCheckFactory(
          { mode: policy.signature, trustedKeys: policy.trustedKeys, model: config.vendorClass, allowDowngrade: policy.allowDowngrade },
          log,
        );
  const intervalMs = config.log.progressIntervalSeconds * 1000;
  return new Daemon({
    config,
    log,
    store,
    platform,
    ...(opts.digest ? { digest: opts.digest } : {}),
    ...(opts.onIdle ? { onIdle: opts.onIdle } : {}),
    dhcp,
    fetchers,
    stage,
    imageCheck,
    progress: (label) => createProgressRenderer({ label, log, intervalMs }),
    once: opts.once,
  });
}

/** A fetcher whose module is loaded (once) on its first transfer. */
export function lazyFetcher(load: () => Promise<Fetcher>): Fetcher {
  let loaded: Promise<Fetcher> | undefined;
  return async (req, sink, opts) => {
    loaded ??= load();
    try {
      return await (await loaded)(req, sink, opts);
    } finally {
      // a failed load is retried on the next transfer
      await loaded.catch(() => (loaded = undefined));
    }
  };
}
