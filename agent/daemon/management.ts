/**
 * The SNMP management upgrade (DOCS-CABLE-DEVICE-MIB docsDevSwAdminStatus = upgradeFromMgt):
 * TFTP download of the file an SNMP manager named, from the server it named, straight into the
 * inactive slot (stage(): no expected MD5 is known, so the stream's MD5 is the reference of the
 * read-back), then — as RFC 4639 describes — ignore provisioning upgrades from now on and
 * reboot into the new image (the daemon does, on 'staged'). A failure is recorded (lastError, upgrade outcome `failed`) and
 * nothing else changes. The Daemon serializes this with its evaluation loop.
 */
import type { Logger } from '../log.ts';
import type { PersistentState } from '../state/schema.ts';
import type { RuntimePhase, RuntimeStatus } from '../status/model.ts';
import type { Fetcher, TransferProgress } from '../transfer/types.ts';
import type { AgentPlatform } from './platform.ts';
import type { StageFn } from './ports.ts';
import { asAgentError } from '../errors.ts';
import { withHistory } from '../state/history.ts';
import { versionFromFileName } from '../upgrade/version.ts';

export interface ManagementUpgrade {
  /** IPv4 address of the TFTP server */
  server: string;
  file: string;
}

/** What the daemon lends the management upgrade (service.ts builds it from its own state). */
export interface ManagementPort {
  log: Logger;
  state(): PersistentState;
  persist(f: (s: PersistentState) => PersistentState): Promise<void>;
  tftp: Fetcher;
  stage: StageFn;
  platform: AgentPlatform;
  versionPattern: string;
  signal: AbortSignal;
  now(): number;
  setPhase(p: RuntimePhase): Promise<void>;
  setProgress(p: RuntimeStatus['progress']): void;
}

export async function runManagementUpgrade(p: ManagementPort, req: ManagementUpgrade): Promise<'staged' | 'failed'> {
  const t0 = p.now();
  const version = versionFromFileName(req.file, p.versionPattern)?.text ?? null;
  // The inactive slot is about to be overwritten: forget what it held, durably, first.
  await p.persist((s) => ({ ...s, staged: null, previous: null }));
  p.log.info({ event: 'mgmt.upgrade.start', server: req.server, file: req.file }, `management upgrade (SNMP): downloading tftp://${req.server}/${req.file}`);
  await p.setPhase('downloading');
  try {
    const r = await p.stage(
      { fetcher: p.tftp, request: { protocol: 'tftp', server: req.server, file: req.file }, md5: null, slots: p.platform.slots, bootEnv: p.platform.bootEnv, log: p.log },
      { signal: p.signal, onProgress: (x: TransferProgress) => p.setProgress({ file: req.file, bytes: x.bytes, total: x.total ?? null, rate: x.rate }) },
    );
    const now = p.now();
    await p.persist((s) =>
      withHistory(
        {
          ...s,
          staged: { slot: r.slot, md5: r.md5, sha256: r.sha256, size: r.bytes, version, file: req.file, source: 'tftp', installedAt: now, offerKey: `mgmt:${req.server}/${req.file}`, urgent: true, rebootRequestedAt: null },
          lastError: null,
          upgrade: { source: 'management', result: 'complete', file: req.file, server: req.server, at: now },
          ignoreProvisioning: true,
        },
        { at: now, event: 'staged', slot: r.slot, version, md5: r.md5, detail: `management (SNMP) tftp ${req.file} ${r.bytes} bytes in ${now - t0} ms` },
      ),
    );
    p.setProgress(null);
    p.log.info(
      { event: 'mgmt.upgrade.staged', slot: r.slot, version, md5: r.md5, bytes: r.bytes },
      `management upgrade: ${req.file} staged in slot ${r.slot}, verified; ignoring provisioning upgrades from now on; rebooting`,
    );
    return 'staged'; // the daemon reboots once this tracked work has ended
  } catch (e) {
    p.setProgress(null);
    if (p.signal.aborted) return 'failed';
    const err = asAgentError(e, 'UPGRADE_FETCH_FAILED', 'management download');
    const now = p.now();
    await p.persist((s) =>
      withHistory(
        { ...s, lastError: { code: err.code, message: err.message, at: now }, upgrade: { source: 'management', result: 'failed', file: req.file, server: req.server, at: now } },
        { at: now, event: 'download-failed', detail: `management (SNMP) ${req.file}: ${err.code}` },
      ),
    );
    p.log.warn({ event: 'mgmt.upgrade.failed', code: err.code, file: req.file, server: req.server }, `management upgrade of ${req.file} failed (${err.code}): ${err.message}`);
    await p.setPhase('idle');
    return 'failed';
  }
}
