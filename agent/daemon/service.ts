/**
 * The agent service: DHCP client → option 43 offer → decide() → fetch + stage → activation,
 * plus boot/health bookkeeping. Every outcome goes through the persistent state (the status
 * model is a view of it) and one log line with its reason.
 *
 * I/O is behind ports (ports.ts, platform.ts); the decision is the pure decide(). Work is
 * serialized: one evaluation loop at a time; ACKs and timers only "kick" it.
 *
 * Stopping: one lifetime signal (`life`) ends everything. stop() and activate() abort it
 * first (synchronously), and every path that could change something (loop, ACK handler,
 * timers, stage(), fatal()) checks it before its next side effect; downloads run on it, so
 * aborting it cancels the transfer. Both then wait (bounded, STOP_GRACE_MS) for the work in
 * flight to wind down (the partial slot discarded, the staged record written), write the
 * state once more, and end. After run() resolved nothing is written or logged.
 */
import type { Logger } from '../log.ts';
import type { AgentConfig } from '../config/schema.ts';
import type { Lease } from '../dhcp/lease.ts';
import type { Option43Offer } from '../option43/types.ts';
import type { HistoryEntry, PersistentState } from '../state/schema.ts';
import { buildStatus, type RuntimePhase, type RuntimeStatus, type StatusSnapshot } from '../status/model.ts';
import type { TransferProgress, TransferRequest } from '../transfer/types.ts';
import type { AgentPlatform } from './platform.ts';
import type { DhcpFactory, DhcpPort, Fetchers, ProgressFactory, StageFn } from './ports.ts';
import { AgentError, asAgentError } from '../errors.ts';
import { emptyState, withHistory, type StateStore } from '../state/store.ts';
import { decide, type Decision } from '../upgrade/decide.ts';
import { recordSuccess } from '../upgrade/attempts.ts';
import { maskOffer } from '../upgrade/offer.ts';
import type { UpgradePolicy, RetryPolicy } from '../upgrade/policy.ts';
import type { ImageRecord } from '../upgrade/image.ts';
import type { ImageCheckFactory } from '../image/policy.ts';
import { otherSlot } from '../../platform/types.ts';
import { reconcileBoot } from './boot.ts';
import { fetchConfigFile } from '../upgrade/config-file.ts';
import type { StreamDigester } from '../transfer/digest-child.ts';
import { onAckState, onDownloadFailed, onRebootRequested, onStaged } from './transitions.ts';
import { removeRuntime, writeRuntime } from '../status/files.ts';
import { startControlServer, type ControlServer } from './control.ts';
import { SlotVerifier, pickBootSlot, type BootPick } from './integrity.ts';

/** MD5 of zero bytes: what an empty slot "holds". */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
import { runManagementUpgrade, type ManagementUpgrade } from './management.ts';

/** Why `run --once` ended (printed, and mapped to the exit code by the CLI). */
export type Outcome =
  | 'up-to-date'
  | 'staged'
  | 'rebooted'
  | 'no-offer'
  | 'invalid-offer'
  | 'refused'
  | 'ignoring-provisioning'
  | 'gave-up'
  | 'verify-failed'
  | 'no-lease'
  | 'stopped';


/** How long stop() / activate() wait for a cancelled download to wind down. */
export const STOP_GRACE_MS = 1500;

export interface DaemonDeps {
  config: AgentConfig;
  log: Logger;
  store: StateStore;
  platform: AgentPlatform;
  dhcp: DhcpFactory;
  fetchers: Fetchers;
  stage: StageFn;
  /** signed-image check per download (agent/image/policy.ts); omitted or undefined: policy.signature off */
  imageCheck?: ImageCheckFactory;
  progress?: ProgressFactory;
  /** `run --once`: resolve run() when idle */
  once: boolean;
  /** listen on the control socket (default true) */
  control?: boolean;
  /** bound of the wait for cancelled work in stop()/activate() (default STOP_GRACE_MS) */
  stopGraceMs?: number;
  now?: () => number;
  random?: () => number;
  /** how files and slots are hashed while idle (run: a child process); default in-process */
  digest?: StreamDigester;
  /** called each time the daemon turns idle (run: a heap compaction, agent/util/heap.ts) */
  onIdle?: () => void;
}

export class Daemon {
  private readonly d: DaemonDeps;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly policy: UpgradePolicy;
  private readonly retry: RetryPolicy;
  private state: PersistentState = emptyState();
  private offer: Option43Offer | undefined;
  private lease: Lease | undefined;
  private dhcpPort: DhcpPort | undefined;
  private control: ControlServer | undefined;
  private trialPending = false;
  private busy = false;
  private again = false;
  private finished = false;
  /** aborted once, by stop() or activate(): the gate checked before every side effect */
  private readonly life = new AbortController();
  /** an activation requested from inside the loop; run when the loop has returned */
  private activateAfterLoop: string | undefined;
  /** the download in flight (for the stop record) */
  private downloading: string | undefined;
  /** async work in flight (loop, ACK handling, timer actions), awaited by stop()/activate() */
  private readonly inflight = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;
  /** the state was loaded and saved by boot(): only then does stop() write it */
  private booted = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private retryTimer: NodeJS.Timeout | undefined;
  private resolveRun: ((o: Outcome) => void) | undefined;
  private phase: RuntimePhase = 'starting';
  private progress: RuntimeStatus['progress'] = null;
  private lastRuntimeWrite = 0;
  private readonly startedAt: number;
  private readonly historyListeners: Array<(e: HistoryEntry) => void> = [];

  constructor(deps: DaemonDeps) {
    this.d = deps;
    // After run() resolved nothing is logged: work that outlived the stop grace stays silent.
    this.log = gatedLogger(deps.log, () => this.finished);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    const c = deps.config;
    this.policy = {
      allowDowngrade: c.policy.allowDowngrade,
      unparseableVersion: c.policy.unparseableVersion,
      sameVersion: c.policy.sameVersion,
      ignoreProvisioning: c.policy.ignoreProvisioning,
      versionPattern: c.policy.versionPattern,
    };
    this.retry = { maxAttempts: c.retry.maxAttempts, baseMs: c.retry.baseSeconds * 1000, maxMs: c.retry.maxSeconds * 1000, jitter: c.retry.jitter };
    this.startedAt = this.now();
  }

  /** Current persistent state (tests, SNMP views). */
  get snapshot(): PersistentState {
    return this.state;
  }

  /** The status model of this daemon, from memory (what `status --json` shows; SNMP reads it). */
  status(): StatusSnapshot {
    return buildStatus(this.state, this.finished ? null : this.runtime());
  }

  /** Boots, starts DHCP and runs until stopped (or, with `once`, until idle). */
  async run(): Promise<Outcome> {
    const done = new Promise<Outcome>((resolve) => (this.resolveRun = resolve));
    await this.d.store.ensureDir();
    if (this.d.control !== false) {
      this.control = await startControlServer(this.d.store.dir, (c) => {
        if (c.cmd === 'ping') return { reply: { ok: true, message: `pid ${process.pid}` } };
        const staged = this.state.staged;
        const message = staged ? `releasing the lease and rebooting into slot ${staged.slot} (version ${staged.version ?? '?'})` : 'no staged image: releasing the lease and rebooting';
        return { reply: { ok: true, message }, after: () => void this.requestReboot(c.source) };
      });
    }
    try {
      await this.setPhase('starting');
      // Tracked: a stop during the boot waits for it (and never writes a state not yet loaded).
      const booting = this.boot();
      this.track(booting);
      await booting;
      if (this.halted) return await done; // stopped while booting: no DHCP client is started
      this.dhcpPort = this.d.dhcp({ onAck: (l) => this.onAck(l), onLost: (r) => this.onLost(r) });
      await this.setPhase('waiting-for-lease');
      await this.dhcpPort.start();
      if (this.halted) await this.dhcpPort.stop().catch(() => undefined); // stopped meanwhile
    } catch (e) {
      // A start that fails (bad config, missing interface, unreadable slots) leaves nothing
      // behind: no listening socket, no runtime file, no DHCP client.
      this.life.abort(new AgentError('DAEMON_STOPPING', 'start failed'));
      this.finished = true;
      await this.shutdown();
      throw e;
    }
    this.armStartTimers();
    return done;
  }

  /**
   * Hook for the local `reboot` command and the SNMP reboot trigger. A download in flight
   * is cancelled (its partial slot discarded) before the reboot; an image staged and
   * verified before the request is what boots next.
   */
  async requestReboot(source: 'cli' | 'snmp' | 'urgent'): Promise<void> {
    await this.activate(source === 'urgent' ? 'urgent upgrade offer' : `reboot requested (${source})`);
  }

  /** Called with each new history entry (staged, failed, reboot-requested, booted, fallback…): SNMP notifications. */
  onHistory(fn: (e: HistoryEntry) => void): void {
    this.historyListeners.push(fn);
  }

  /** SNMP docsDevSwAdminStatus upgradeFromMgt(1): agent/daemon/management.ts. Refused while busy. */
  requestManagementUpgrade(req: ManagementUpgrade): void {
    if (this.halted || this.busy) throw new AgentError('UPGRADE_IN_PROGRESS', 'an upgrade or a reboot is in progress');
    this.busy = true;
    this.downloading = req.file;
    const signal = this.life.signal;
    const port = {
      log: this.log,
      state: () => this.state,
      persist: (f: (s: PersistentState) => PersistentState) => this.persist(f),
      tftp: this.d.fetchers.tftp,
      stage: this.d.stage,
      platform: this.d.platform,
      versionPattern: this.d.config.policy.versionPattern,
      signal,
      now: this.now,
      setPhase: (p: RuntimePhase) => this.setPhase(p),
      setProgress: (p: RuntimeStatus['progress']) => void ((this.progress = p), this.writeRuntimeThrottled()),
    };
    let staged = false;
    const work = runManagementUpgrade(port, req)
      .then((r) => void (staged = r === 'staged'))
      .catch((e: unknown) => this.fatal(e))
      .finally(() => {
        this.busy = false;
        this.downloading = undefined;
        // The reboot runs after the tracked work has ended (activate() waits for tracked work).
        if (staged) void this.activate('management upgrade (SNMP docsDevSwAdminStatus)');
        else if (this.again) this.kick();
      });
    this.track(work);
  }

  /** SNMP docsDevSwAdminStatus allow(2)/ignore(3)ProvisioningUpgrade: persisted, overrides the config. */
  async setIgnoreProvisioning(ignore: boolean): Promise<void> {
    await this.persist((s) => ({ ...s, ignoreProvisioning: ignore }));
    this.log.info({ event: 'policy.ignoreProvisioning', value: ignore, source: 'snmp' }, `provisioning upgrades ${ignore ? 'ignored' : 'allowed'} (SNMP)`);
    this.kick();
  }

  /** True once stop() or a reboot began: nothing new starts. */
  get halted(): boolean {
    return this.life.signal.aborted;
  }

  /**
   * Graceful stop (SIGTERM/SIGINT): cancels a download (TFTP ERROR to the server / FTP
   * connection closed, partial slot discarded, boot environment untouched), keeps the lease
   * (no RELEASE), writes the state, and resolves run() with 'stopped'. Nothing happens after.
   */
  stop(reason = 'signal'): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.halted) return Promise.resolve(); // a reboot is under way: it ends the process
    this.stopping = this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const cancelled = this.downloading;
    this.life.abort(new AgentError('DAEMON_STOPPING', 'the agent is stopping'));
    this.clearTimers();
    this.log.info({ event: 'daemon.stop', reason, ...(cancelled ? { cancelled } : {}) }, `stopping (${reason})${cancelled ? `: cancelling the download of ${cancelled}` : ''}`);
    await this.settle();
    const now = this.now();
    // Only a state that was loaded is written back (a stop during the boot waited for it).
    if (this.booted) await this.persist((s) => withHistory(s, { at: now, event: 'stopped', detail: cancelled ? `${reason}; download of ${cancelled} cancelled` : reason })).catch((e: unknown) =>
      this.log.error({ event: 'state.write.failed', error: e instanceof Error ? e.message : String(e) }, 'state not written at stop'),
    );
    await this.shutdown();
    this.finish('stopped');
  }

  /** Waits (bounded) until the async work in flight has wound down after `life` was aborted. */
  private async settle(except?: Promise<unknown>): Promise<void> {
    const pending = [...this.inflight].filter((p) => p !== except);
    if (pending.length === 0) return;
    let t: NodeJS.Timeout | undefined;
    const grace = this.d.stopGraceMs ?? STOP_GRACE_MS;
    const timedOut = await Promise.race([
      Promise.allSettled(pending).then(() => false),
      new Promise<boolean>((r) => (t = setTimeout(() => r(true), grace))),
    ]);
    clearTimeout(t);
    if (timedOut) this.log.warn({ event: 'daemon.stop.slow', graceMs: grace }, `work in flight did not end within ${grace} ms; going on`);
  }

  /** Runs `p` as tracked work: stop() waits for it. */
  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
  }

  // ---- boot -------------------------------------------------------------------------

  private async boot(): Promise<void> {
    const { store, platform } = this.d;
    const loaded = await store.load(new Date(this.now()));
    let s = loaded.kind === 'ok' ? loaded.state : emptyState();
    this.state = s; // persist() below reports the history entries the boot adds
    if (loaded.kind === 'corrupt') {
      s = { ...s, lastError: { code: 'STATE_CORRUPT', message: `state file was corrupt (${loaded.reason}); kept as ${loaded.movedTo}`, at: this.now() } };
    }
    const verifier = new SlotVerifier(platform);
    let picked: BootPick | undefined;
    const known = s;
    const facts = await platform.boot(async () => {
      picked = await pickBootSlot(known, verifier, platform);
      return picked.slot;
    });
    this.log.info({ event: 'boot', slot: facts.slot, trial: facts.trial, fellBackFrom: facts.fellBackFrom, rebootReason: facts.rebootReason }, `booted slot ${facts.slot}${facts.trial ? ' (trial)' : ''}`);
    if (facts.envRecovered) s = this.envRecovered(s, facts.slot, facts.envRecovered, picked);
    const r = reconcileBoot(s, facts, this.now());
    for (const n of r.notes) this.log[n.level]({ event: 'boot.reconcile' }, n.msg);
    s = { ...r.state, platform: platform.ref };
    if (r.needsRebuild) s = await this.rebuild(s, facts.slot, loaded.kind);
    else s = await this.verifyAtStart(s, verifier);
    await this.persist(() => s);
    this.booted = true;
    this.trialPending = facts.trial;
    const run = s.running;
    if (run) {
      this.log.info(
        { event: 'running', slot: run.slot, version: run.version, md5: run.md5 },
        `running slot ${run.slot} version ${run.version ?? '?'} md5 ${run.md5}`,
      );
    }
  }

  /** The boot environment was damaged and rebuilt (BootEnv contract): loud, and recorded. */
  private envRecovered(s: PersistentState, slot: 'A' | 'B', e: { reason: string; keptAs: string | null }, picked: BootPick | undefined): PersistentState {
    const now = this.now();
    const v = picked?.verified;
    const how = v
      ? `slot ${slot} holds the verified image (version ${v.version ?? '?'}, md5 ${v.md5})`
      : `no recorded image verified (state missing or slots changed): slot ${slot} is the first non-empty slot`;
    const msg = `boot environment was damaged (${e.reason}) and rebuilt: booting slot ${slot}, ${how}${e.keptAs ? `; damaged copy kept as ${e.keptAs}` : ''}`;
    this.log.error({ event: 'bootenv.recovered', reason: e.reason, keptAs: e.keptAs, slot, verified: v !== undefined && v !== null }, msg);
    return withHistory({ ...s, lastError: { code: 'SLOT_BOOTENV_RECOVERED', message: msg, at: now } }, { at: now, event: 'bootenv-recovered', slot, detail: e.reason });
  }

  /**
   * What runs is what was verified: the running and the staged slot are read back and
   * compared with their records. Running slot changed → reported, its record describes the
   * bytes it holds now (so no offer is UP_TO_DATE) and carries `mismatch`; staged slot
   * changed → discarded. A staged image that verifies keeps the boot environment on it.
   */
  private async verifyAtStart(input: PersistentState, v: SlotVerifier): Promise<PersistentState> {
    const { platform } = this.d;
    let s = input;
    const run = s.running;
    if (run && !run.mismatch) {
      const c = await v.check(run);
      if (!c.ok) {
        const now = this.now();
        const actual = await platform.inspectSlot(run.slot);
        const msg =
          `running slot ${run.slot} does not hold the verified image (recorded md5 ${run.md5}, ${run.size} bytes; the slot now ${actual ? `md5 ${actual.md5}, ${actual.size} bytes` : 'is empty'}): ` +
          `its MD5 is unknown, the next offer is installed into slot ${otherSlot(run.slot)}`;
        this.log.error({ event: 'slot.mismatch', role: 'running', slot: run.slot, expectedMd5: run.md5, foundMd5: actual?.md5 ?? null }, msg);
        const running = { ...run, md5: actual?.md5 ?? EMPTY_MD5, sha256: actual?.sha256 ?? null, size: actual?.size ?? 0, mismatch: { expectedMd5: run.md5, expectedSha256: run.sha256, at: now } };
        s = withHistory({ ...s, running, lastError: { code: 'SLOT_RUNNING_MISMATCH', message: msg, at: now } }, { at: now, event: 'slot-mismatch', slot: run.slot, version: run.version, md5: run.md5, detail: msg });
      }
    }
    const staged = s.staged;
    if (staged) {
      if (!(await v.check(staged)).ok) return this.discardStaged(s, 'at start');
      const be = await platform.bootEnv.read();
      if (be.next !== staged.slot) {
        this.log.warn({ event: 'boot.restage', slot: staged.slot }, `staged image in slot ${staged.slot} verified, but the boot environment did not name it: switched back to it`);
        await platform.bootEnv.setNext(staged.slot);
      }
    }
    return s;
  }

  /** The staged slot does not hold what was verified: cancel the switch, empty it, forget it. */
  private async discardStaged(s: PersistentState, when: string): Promise<PersistentState> {
    const staged = s.staged;
    if (!staged) return s;
    const { platform } = this.d;
    const now = this.now();
    const be = await platform.bootEnv.read();
    if (be.next === staged.slot && be.current !== staged.slot) await platform.bootEnv.setNext(be.current);
    const w = await platform.slots.openWriter(staged.slot);
    await w.abort();
    const msg = `staged slot ${staged.slot} (version ${staged.version ?? '?'}) no longer holds the verified image (md5 ${staged.md5}) ${when}: discarded, the boot environment stays on slot ${be.current}`;
    this.log.error({ event: 'slot.mismatch', role: 'staged', slot: staged.slot, expectedMd5: staged.md5 }, msg);
    return withHistory({ ...s, staged: null, lastError: { code: 'SLOT_STAGED_MISMATCH', message: msg, at: now } }, { at: now, event: 'staged-discarded', slot: staged.slot, version: staged.version, md5: staged.md5, detail: msg });
  }

  /** Version and name of the image in a slot, from the factory image or the slot's version file. */
  private async knownImage(
    slot: 'A' | 'B',
    content: { md5: string; size: number },
    factory: () => Promise<Awaited<ReturnType<AgentPlatform['factoryImage']>>>,
  ): Promise<{ version: string | null; file: string | null; from: string } | null> {
    const f = await factory();
    if (f && f.md5 === content.md5 && f.size === content.size) return { version: f.version, file: f.file, from: 'the factory image' };
    const note = await this.d.platform.imageNote(slot);
    if (note && note.md5 === content.md5) return { version: note.version, file: note.file, from: `version file of slot ${slot}` };
    return null;
  }

  /** No usable state: factory install on the very first start, else describe the slots. */
  private async rebuild(s: PersistentState, slot: 'A' | 'B', why: string): Promise<PersistentState> {
    const { platform } = this.d;
    const now = this.now();
    const content = await platform.inspectSlot(slot);
    let factory: Awaited<ReturnType<AgentPlatform['factoryImage']>> | undefined;
    let running: ImageRecord;
    if (!content) {
      const f = await platform.installFactory(slot);
      if (!f) {
        throw new AgentError('CONFIG_INVALID', `slot ${slot} is empty and no factory image is configured (platform.sim.factoryImage)`, { path: 'platform.sim.factoryImage' });
      }
      running = { slot, md5: f.md5, sha256: f.sha256, size: f.size, version: f.version, file: f.file, source: 'factory', installedAt: now, offerKey: null, ...(f.signed ? { signedAt: f.signed.signedAt } : {}) };
      s = withHistory({ ...s, running }, { at: now, event: 'factory-install', slot, version: f.version, md5: f.md5 });
    } else {
      // The version, from what is known: the slot's signature trailer, the configured factory
      // image if the slot holds it, else the slot's version file if it names these bytes.
      const known = await this.knownImage(slot, content, () => (factory === undefined ? platform.factoryImage().then((f) => (factory = f)) : Promise.resolve(factory)));
      const v = content.signed?.version ?? known?.version ?? null;
      const from = content.signed?.version ? 'its signature trailer' : known?.from;
      running = { slot, md5: content.md5, sha256: content.sha256, size: content.size, version: v, file: known?.file ?? null, source: 'rebuilt', installedAt: now, offerKey: null, ...(content.signed ? { signedAt: content.signed.signedAt } : {}) };
      this.log.warn(
        { event: 'state.rebuilt', slot, md5: content.md5, version: v, why },
        `state rebuilt from slot ${slot} (md5 ${content.md5}, ${v ? `version ${v} (${from})` : 'version unknown: offers are refused as possible downgrades unless policy.allowDowngrade'})`,
      );
      s = withHistory({ ...s, running }, { at: now, event: 'rebuilt', slot, version: v, md5: content.md5, detail: `state ${why}` });
    }
    const other = await platform.inspectSlot(otherSlot(slot));
    if (other) {
      const known = await this.knownImage(otherSlot(slot), other, () => (factory === undefined ? platform.factoryImage().then((f) => (factory = f)) : Promise.resolve(factory)));
      const rec: ImageRecord = { slot: otherSlot(slot), md5: other.md5, sha256: other.sha256, size: other.size, version: known?.version ?? null, file: known?.file ?? null, source: 'rebuilt', installedAt: now, offerKey: null };
      const be = await platform.bootEnv.read();
      s = be.next === rec.slot && be.trial ? { ...s, staged: { ...rec, urgent: false, rebootRequestedAt: null }, previous: null } : { ...s, previous: rec, staged: null };
    }
    return s;
  }

  private armStartTimers(): void {
    const c = this.d.config;
    if (this.trialPending) {
      this.timer(c.health.timeoutSeconds * 1000, () => {
        if (!this.trialPending) return;
        const msg = `trial boot of slot ${this.state.running?.slot ?? '?'} got no DHCP lease within ${c.health.timeoutSeconds} s: rebooting (the boot environment falls back)`;
        this.log.error({ event: 'health.timeout' }, msg);
        void this.persist((s) => ({ ...s, lastError: { code: 'UPGRADE_HEALTH_TIMEOUT', message: msg, at: this.now() } })).then(() => this.activate('health check failed'));
      });
    }
    if (this.d.once) {
      this.timer(c.dhcp.leaseTimeoutSeconds * 1000, () => {
        if (this.lease || this.trialPending) return;
        this.log.error({ event: 'dhcp.timeout' }, `no DHCP lease within ${c.dhcp.leaseTimeoutSeconds} s`);
        this.life.abort(new AgentError('DAEMON_STOPPING', 'no DHCP lease'));
        void this.persist((s) => ({ ...s, lastError: { code: 'DHCP_TIMEOUT', message: `no DHCP lease within ${c.dhcp.leaseTimeoutSeconds} s`, at: this.now() } }))
          .then(() => this.shutdown())
          .then(() => this.finish('no-lease'));
      });
    }
  }

  // ---- DHCP events ------------------------------------------------------------------

  private onAck(lease: Lease): void {
    if (this.halted) return;
    this.lease = lease;
    this.offer = lease.option43;
    const now = this.now();
    if (lease.option43Error) {
      this.log.warn({ event: 'offer.invalid', code: lease.option43Error.code }, `option 43 could not be decoded: ${lease.option43Error.message}`);
    }
    const masked = this.offer ? maskOffer(this.offer) : null;
    this.log.info({ event: 'dhcp.ack', address: lease.address, server: lease.serverId, offer: masked }, `DHCP ACK ${lease.address} from ${lease.serverId}${this.offer?.softwareFile ? `: offer ${this.offer.softwareFile}` : ''}`);
    const work = (async () => {
      await this.persist((s) => onAckState(s, masked, now, lease.option43Error));
      if (this.halted) return;
      if (this.trialPending) {
        this.trialPending = false;
        await this.d.platform.bootEnv.markGood();
        const r = this.state.running;
        this.log.info({ event: 'health.good', slot: r?.slot, version: r?.version }, `slot ${r?.slot ?? '?'} is healthy (DHCP bound): trial ended, boot environment committed`);
        await this.persist((s) => withHistory(s, { at: now, event: 'healthy', slot: r?.slot, version: r?.version ?? null, ...(r ? { md5: r.md5 } : {}) }));
      }
      await this.writeRuntimeNow();
      this.kick();
    })().catch((e: unknown) => this.fatal(e));
    this.track(work);
  }

  private onLost(reason: string): void {
    if (this.halted) return;
    this.lease = undefined;
    this.log.warn({ event: 'dhcp.lost', reason }, `DHCP lease lost: ${reason}`);
    void this.setPhase('waiting-for-lease');
  }

  // ---- the evaluation loop ----------------------------------------------------------

  private kick(): void {
    if (this.halted) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    const work = this.loop()
      .catch((e: unknown) => this.fatal(e))
      .finally(() => {
        this.busy = false;
        const reason = this.activateAfterLoop;
        this.activateAfterLoop = undefined;
        // activate() aborts `life` synchronously: no ACK or timer can start a loop before it.
        if (reason !== undefined) void this.activate(reason);
      });
    this.track(work);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.halted || !this.lease) return;
      const running = this.state.running;
      if (!running) throw new AgentError('STATE_INVALID', 'no running image record');
      const now = this.now();
      const decision = decide({
        offer: this.offer,
        running,
        staged: this.state.staged,
        policy: { ...this.policy, ignoreProvisioning: this.state.ignoreProvisioning ?? this.policy.ignoreProvisioning },
        attempts: this.state.attempts,
        ...(this.d.config.policy.fetchConfig ? { config: { applied: this.state.config, attempts: this.state.configAttempts } } : {}),
        now,
      });
      await this.record(decision, now);
      if (this.halted) return;
      switch (decision.action) {
        case 'fetch-software':
          await this.fetchSoftware(decision);
          if (this.halted || this.activateAfterLoop !== undefined) return;
          this.again = true;
          break;
        case 'fetch-config':
          await this.fetchConfig(decision);
          if (this.halted) return;
          this.again = true;
          break;
        case 'activate':
          this.activateAfterLoop = 'urgent upgrade offer';
          return;
        case 'wait':
          if (decision.until !== null) {
            await this.setPhase('waiting');
            this.scheduleRetry(decision.until - now);
          } else {
            await this.idle(decision.code === 'GAVE_UP' ? 'gave-up' : 'verify-failed');
          }
          break;
        case 'nothing':
          await this.idle(nothingOutcome(decision.code));
          break;
      }
    } while (this.again);
  }

  private async record(d: Decision, now: number): Promise<void> {
    const fields: Record<string, unknown> = { event: 'decision', action: d.action, code: d.code };
    if (d.action === 'fetch-software') Object.assign(fields, { file: d.file, md5: d.md5, version: d.version, urgent: d.urgent });
    if (d.action === 'wait' && d.until !== null) fields.until = new Date(d.until).toISOString();
    this.log.info(fields, `decision: ${d.action} (${d.code}): ${d.reason}`);
    await this.persist((s) => ({ ...s, lastDecision: { action: d.action, code: d.code, reason: d.reason, at: now } }));
  }

  private async idle(outcome: Outcome): Promise<void> {
    await this.setPhase('idle');
    this.d.onIdle?.();
    if (this.d.once && !this.halted) {
      this.life.abort(new AgentError('DAEMON_STOPPING', `idle (${outcome})`));
      await this.shutdown();
      this.finish(outcome);
    }
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.timers.delete(this.retryTimer);
    }
    if (this.halted) return;
    this.retryTimer = this.timer(Math.max(0, ms), () => {
      this.retryTimer = undefined;
      this.kick();
    });
  }

  // ---- fetch + stage ------------------------------------------------------------------

  private request(file: string): TransferRequest {
    const o = this.offer;
    if (!o?.protocol || !o.server) throw new AgentError('UPGRADE_OFFER_INVALID', 'offer without protocol or server');
    return {
      protocol: o.protocol,
      server: o.server,
      file,
      ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    };
  }

  /** Removes the offer's password from any text (defence in depth; fetchers scrub too). */
  private scrub(text: string): string {
    const p = this.offer?.password;
    return p ? text.split(p).join('***') : text;
  }

  private async fetchSoftware(d: Extract<Decision, { action: 'fetch-software' }>): Promise<void> {
    const req = this.request(d.file);
    const running = this.state.running;
    if (!running) return;
    const target = otherSlot(running.slot);
    // The inactive slot is about to be overwritten: forget what it held, durably, first.
    await this.persist((s) => ({ ...s, staged: null, previous: null }));
    if (this.halted) return;
    this.log.info(
      { event: 'download.start', protocol: req.protocol, server: req.server, file: req.file, user: req.user, slot: target },
      `downloading ${req.protocol}://${req.server}/${req.file} into slot ${target}`,
    );
    const renderer = this.d.progress?.(`${req.protocol} ${d.file}`);
    this.downloading = d.file;
    await this.setPhase('downloading');
    const onProgress = (p: TransferProgress): void => {
      renderer?.update(p);
      this.progress = { file: d.file, bytes: p.bytes, total: p.total ?? null, rate: p.rate };
      void this.writeRuntimeThrottled();
    };
    const t0 = this.now();
    const verifyImage = this.d.imageCheck?.(running);
    try {
      const r = await this.d.stage(
        { fetcher: this.d.fetchers[req.protocol], request: req, md5: d.md5, slots: this.d.platform.slots, bootEnv: this.d.platform.bootEnv, log: this.log },
        { onProgress, signal: this.life.signal, ...(verifyImage ? { verifyImage } : {}) },
      );
      renderer?.done();
      const now = this.now();
      // Recorded even when a stop or reboot came meanwhile: stage() switched the boot
      // environment (it checks the signal right before), so the state must say so.
      await this.persist((s) => onStaged(s, { decision: d, protocol: req.protocol, result: r, now, elapsedMs: now - t0 }));
      if (!this.finished) {
        await this.d.platform
          .noteImage(r.slot, { md5: r.md5, version: d.version, file: d.file })
          .catch((e: unknown) => this.log.warn({ event: 'slot.note.failed', slot: r.slot, error: e instanceof Error ? e.message : String(e) }, `version file of slot ${r.slot} not written`));
      }
      this.progress = null;
      const activate = d.urgent && !this.halted;
      this.log.info(
        { event: 'staged', slot: r.slot, version: this.state.staged?.version ?? d.version, md5: r.md5, sha256: r.sha256, bytes: r.bytes, elapsedMs: now - t0, urgent: d.urgent, signed: r.image?.refusal === null },
        `staged ${d.file} (version ${this.state.staged?.version ?? d.version ?? '?'}${r.image?.refusal === null ? ', signature verified' : ''}) in slot ${r.slot}, verified; ${activate ? 'urgent: releasing the lease and rebooting' : 'awaiting reboot'}`,
      );
      if (activate) this.activateAfterLoop = 'urgent upgrade offer';
    } catch (e) {
      renderer?.done();
      this.progress = null;
      if (this.halted) {
        this.log.info({ event: 'download.cancelled', file: d.file, slot: target }, `download of ${d.file} cancelled; slot ${target} discarded`);
        return;
      }
      await this.downloadFailed('software', d.offerKey, d.file, e);
    } finally {
      this.downloading = undefined;
    }
  }

  private async fetchConfig(d: Extract<Decision, { action: 'fetch-config' }>): Promise<void> {
    const req = this.request(d.file);
    this.log.info({ event: 'config.download', protocol: req.protocol, server: req.server, file: req.file }, `downloading configuration ${req.file}`);
    this.downloading = d.file;
    try {
      const r = await fetchConfigFile({
        fetcher: this.d.fetchers[req.protocol],
        request: req,
        md5: d.md5,
        stateDir: this.d.store.dir,
        ...(this.d.config.policy.configApplyCommand ? { applyCommand: this.d.config.policy.configApplyCommand } : {}),
        log: this.log,
        now: this.now,
        signal: this.life.signal,
        ...(this.d.digest ? { digest: this.d.digest } : {}),
      });
      const rec = { file: r.file, md5: r.md5, size: r.bytes, path: r.path, fetchedAt: this.now() };
      await this.persist((s) =>
        withHistory({ ...s, config: rec, configAttempts: recordSuccess(s.configAttempts, d.offerKey) }, { at: this.now(), event: 'config-fetched', md5: rec.md5, detail: `${rec.file} → ${rec.path}` }),
      );
      this.log.info({ event: 'config.fetched', file: rec.file, md5: rec.md5, path: rec.path }, `configuration ${rec.file} fetched and verified → ${rec.path}`);
    } catch (e) {
      if (this.halted) return;
      await this.downloadFailed('config', d.offerKey, d.file, e);
    } finally {
      this.downloading = undefined;
    }
  }

  private async downloadFailed(part: 'software' | 'config', key: string, file: string, e: unknown): Promise<void> {
    const err = asAgentError(e, 'UPGRADE_FETCH_FAILED', `${part} download`);
    const message = this.scrub(err.message);
    const now = this.now();
    let permanent = false;
    await this.persist((s) => {
      const r = onDownloadFailed(s, { part, offerKey: key, file, code: err.code, message, now, retry: this.retry, rand: this.random() });
      permanent = r.permanent;
      return r.state;
    });
    const field = part === 'software' ? 'attempts' : 'configAttempts';
    const a = this.state[field];
    const next = a.nextAttemptAt !== null ? `retry ${a.failures + 1}/${this.retry.maxAttempts} in ${Math.ceil((a.nextAttemptAt - now) / 1000)} s` : permanent ? 'not fetched again until the offer changes' : 'giving up until the next DHCP ACK';
    this.log.warn({ event: permanent ? 'download.rejected' : 'download.failed', part, code: err.code, file, failures: a.failures }, `${part} download of ${file} failed (${err.code}): ${message}; ${next}`);
  }

  // ---- activation -------------------------------------------------------------------------

  private async activate(reason: string): Promise<void> {
    if (this.halted) return;
    const cancelled = this.downloading;
    this.life.abort(new AgentError('DAEMON_REBOOTING', 'rebooting'));
    this.clearTimers();
    if (cancelled) this.log.info({ event: 'reboot.cancel-download', file: cancelled, reason }, `${reason}: cancelling the download of ${cancelled} first`);
    await this.settle();
    // What boots is what was verified: read the staged slot back once more.
    const pending = this.state.staged;
    if (pending && !(await new SlotVerifier(this.d.platform).check(pending)).ok) {
      const discarded = await this.discardStaged(this.state, 'before the reboot');
      await this.persist(() => discarded);
    }
    const now = this.now();
    const staged = this.state.staged;
    // A state not loaded yet (a reboot asked for during a slow boot) is not written over.
    if (this.booted) await this.persist((st) => onRebootRequested(st, reason, now));
    await this.setPhase('rebooting');
    try {
      await this.dhcpPort?.release();
      this.log.info({ event: 'dhcp.release' }, 'DHCPRELEASE sent');
    } catch (e) {
      this.log.warn({ event: 'dhcp.release.failed', error: e instanceof Error ? e.message : String(e) }, 'DHCPRELEASE failed; rebooting anyway');
    }
    await this.shutdown();
    this.log.info({ event: 'reboot', reason, slot: staged?.slot, version: staged?.version }, `rebooting: ${reason}`);
    await this.d.platform.rebooter.reboot(reason);
    this.finish('rebooted');
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    this.clearTimers();
    await this.dhcpPort?.stop().catch((e: unknown) => this.log.warn({ error: e instanceof Error ? e.message : String(e) }, 'DHCP client stop failed'));
    await this.control?.close();
    this.control = undefined;
    await removeRuntime(this.d.store.dir);
  }

  private finish(o: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    this.resolveRun?.(o);
  }

  private fatal(e: unknown): void {
    if (this.finished) return;
    const err = asAgentError(e, 'DAEMON_INTERNAL', 'daemon');
    this.log.error({ event: 'daemon.error', code: err.code }, this.scrub(err.message));
    void this.persist((s) => ({ ...s, lastError: { code: err.code, message: this.scrub(err.message), at: this.now() } }))
      .catch(() => undefined)
      .then(() => {
        // Keep serving: the next ACK or timer tries again. In --once mode, stop.
        if (this.d.once && !this.halted) return this.stop('internal error');
        return undefined;
      });
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.halted) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.retryTimer = undefined;
  }

  private async persist(f: (s: PersistentState) => PersistentState): Promise<void> {
    if (this.finished) return; // after the exit line nothing is written
    const last = this.state.history.at(-1);
    this.state = f(this.state);
    await this.d.store.save(this.state);
    const h = this.state.history;
    if (this.historyListeners.length === 0 || h.at(-1) === last) return;
    let i = h.length;
    while (i > 0 && h[i - 1] !== last) i--;
    for (const e of h.slice(i)) for (const fn of this.historyListeners) fn(e);
  }

  private async setPhase(p: RuntimePhase): Promise<void> {
    this.phase = p;
    await this.writeRuntimeNow();
  }

  private runtime(): RuntimeStatus {
    const l = this.lease;
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: this.lastRuntimeWrite,
      phase: this.phase,
      progress: this.progress,
      lease: l ? { address: l.address, serverId: l.serverId, acquiredAt: l.acquiredAt, leaseSeconds: l.leaseSeconds } : null,
      trial: this.trialPending,
    };
  }

  private async writeRuntimeThrottled(): Promise<void> {
    if (this.now() - this.lastRuntimeWrite < 1000) return;
    await this.writeRuntimeNow();
  }

  private async writeRuntimeNow(): Promise<void> {
    if (this.finished) return;
    this.lastRuntimeWrite = this.now();
    await writeRuntime(this.d.store.dir, this.runtime()).catch((e: unknown) => this.log.debug({ error: e instanceof Error ? e.message : String(e) }, 'runtime file not written'));
  }
}

function nothingOutcome(code: Extract<Decision, { action: 'nothing' }>['code']): Outcome {
  switch (code) {
    case 'UP_TO_DATE':
      return 'up-to-date';
    case 'ALREADY_STAGED':
      return 'staged';
    case 'NO_OFFER':
      return 'no-offer';
    case 'INVALID_OFFER':
      return 'invalid-offer';
    case 'IGNORE_PROVISIONING':
      return 'ignoring-provisioning';
    case 'DOWNGRADE_REFUSED':
    case 'SAME_VERSION_REFUSED':
    case 'UNPARSEABLE_REFUSED':
      return 'refused';
  }
}

const LOG_METHODS: ReadonlySet<PropertyKey> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/** `log` that drops every line once `closed()` is true (children too). */
function gatedLogger(log: Logger, closed: () => boolean): Logger {
  const noop = (): void => undefined;
  return new Proxy(log, {
    get(target, prop, receiver) {
      if (LOG_METHODS.has(prop) && closed()) return noop;
      const v: unknown = Reflect.get(target, prop, receiver);
      if (prop === 'child' && typeof v === 'function') {
        return (...args: unknown[]) => gatedLogger((v as (...a: unknown[]) => Logger).apply(target, args), closed);
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
