/**
 * The agent service: DHCP client → option 43 offer → decide() → fetch + stage → activation,
 * plus boot/health bookkeeping. Every outcome goes through the persistent state (the status
 * model is a view of it) and one log line with its reason.
 *
 * I/O is behind ports (ports.ts, platform.ts); the decision is the pure decide(). Work is
 * serialized: one evaluation loop at a time; ACKs and timers only "kick" it.
 */
import type { Logger } from '../log.ts';
import type { AgentConfig } from '../config/schema.ts';
import type { Lease } from '../dhcp/lease.ts';
import type { Option43Offer } from '../option43/types.ts';
import type { PersistentState } from '../state/schema.ts';
import type { RuntimePhase, RuntimeStatus } from '../status/model.ts';
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
import { onAckState, onDownloadFailed, onRebootRequested, onStaged } from './transitions.ts';
import { removeRuntime, writeRuntime } from '../status/files.ts';
import { startControlServer, type ControlServer } from './control.ts';

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
  now?: () => number;
  random?: () => number;
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
  private activating = false;
  private abort: AbortController | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private retryTimer: NodeJS.Timeout | undefined;
  private resolveRun: ((o: Outcome) => void) | undefined;
  private phase: RuntimePhase = 'starting';
  private progress: RuntimeStatus['progress'] = null;
  private lastRuntimeWrite = 0;
  private readonly startedAt: number;

  constructor(deps: DaemonDeps) {
    this.d = deps;
    this.log = deps.log;
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
      await this.boot();
      this.dhcpPort = this.d.dhcp({ onAck: (l) => this.onAck(l), onLost: (r) => this.onLost(r) });
      await this.setPhase('waiting-for-lease');
      await this.dhcpPort.start();
    } catch (e) {
      // A start that fails (bad config, missing interface, unreadable slots) leaves nothing
      // behind: no listening socket, no runtime file, no DHCP client.
      this.finished = true;
      await this.shutdown();
      throw e;
    }
    this.armStartTimers();
    return done;
  }

  /** Hook for the local `reboot` command and (later) the SNMP reboot trigger. */
  async requestReboot(source: 'cli' | 'snmp' | 'urgent'): Promise<void> {
    await this.activate(source === 'urgent' ? 'urgent upgrade offer' : `reboot requested (${source})`);
  }

  /** Graceful stop (SIGTERM/SIGINT): aborts a download, keeps the lease (no RELEASE). */
  async stop(reason = 'signal'): Promise<void> {
    if (this.finished) return;
    this.log.info({ event: 'daemon.stop', reason }, `stopping (${reason})`);
    this.abort?.abort(new AgentError('DAEMON_STOPPING', 'the agent is stopping'));
    await this.shutdown();
    this.finish('stopped');
  }

  // ---- boot -------------------------------------------------------------------------

  private async boot(): Promise<void> {
    const { store, platform } = this.d;
    const loaded = await store.load(new Date(this.now()));
    let s = loaded.kind === 'ok' ? loaded.state : emptyState();
    if (loaded.kind === 'corrupt') {
      s = { ...s, lastError: { code: 'STATE_CORRUPT', message: `state file was corrupt (${loaded.reason}); kept as ${loaded.movedTo}`, at: this.now() } };
    }
    const facts = await platform.boot();
    this.log.info({ event: 'boot', slot: facts.slot, trial: facts.trial, fellBackFrom: facts.fellBackFrom, rebootReason: facts.rebootReason }, `booted slot ${facts.slot}${facts.trial ? ' (trial)' : ''}`);
    const r = reconcileBoot(s, facts, this.now());
    for (const n of r.notes) this.log[n.level]({ event: 'boot.reconcile' }, n.msg);
    s = { ...r.state, platform: platform.ref };
    if (r.needsRebuild) s = await this.rebuild(s, facts.slot, loaded.kind);
    this.state = s;
    await store.save(s);
    this.trialPending = facts.trial;
    const run = s.running;
    if (run) {
      this.log.info(
        { event: 'running', slot: run.slot, version: run.version, md5: run.md5 },
        `running slot ${run.slot} version ${run.version ?? '?'} md5 ${run.md5}`,
      );
    }
  }

  /** No usable state: factory install on the very first start, else describe the slots. */
  private async rebuild(s: PersistentState, slot: 'A' | 'B', why: string): Promise<PersistentState> {
    const { platform } = this.d;
    const now = this.now();
    const content = await platform.inspectSlot(slot);
    let running: ImageRecord;
    if (!content) {
      const f = await platform.installFactory(slot);
      if (!f) {
        throw new AgentError('CONFIG_INVALID', `slot ${slot} is empty and no factory image is configured (platform.sim.factoryImage)`, { path: 'platform.sim.factoryImage' });
      }
      running = { slot, md5: f.md5, sha256: f.sha256, size: f.size, version: f.version, file: f.file, source: 'factory', installedAt: now, offerKey: null, ...(f.signed ? { signedAt: f.signed.signedAt } : {}) };
      s = withHistory({ ...s, running }, { at: now, event: 'factory-install', slot, version: f.version, md5: f.md5 });
    } else {
      running = { slot, md5: content.md5, sha256: content.sha256, size: content.size, version: content.signed?.version ?? null, file: null, source: 'rebuilt', installedAt: now, offerKey: null, ...(content.signed ? { signedAt: content.signed.signedAt } : {}) };
      this.log.warn({ event: 'state.rebuilt', slot, md5: content.md5, why }, `state rebuilt from slot ${slot} (md5 ${content.md5}, version ${running.version ?? 'unknown'}${content.signed ? ' from its signature trailer' : ''})`);
      s = withHistory({ ...s, running }, { at: now, event: 'rebuilt', slot, md5: content.md5, detail: `state ${why}` });
    }
    const other = await platform.inspectSlot(otherSlot(slot));
    if (other) {
      const rec: ImageRecord = { slot: otherSlot(slot), md5: other.md5, sha256: other.sha256, size: other.size, version: null, file: null, source: 'rebuilt', installedAt: now, offerKey: null };
      const be = await platform.bootEnv.read();
      s = be.next === rec.slot && be.trial ? { ...s, staged: { ...rec, urgent: false, rebootRequestedAt: null }, previous: null } : { ...s, previous: rec, staged: null };
    }
    return s;
  }

  private armStartTimers(): void {
    const c = this.d.config;
    if (this.trialPending) {
      this.timer(c.health.timeoutSeconds * 1000, () => {
        if (!this.trialPending || this.finished) return;
        const msg = `trial boot of slot ${this.state.running?.slot ?? '?'} got no DHCP lease within ${c.health.timeoutSeconds} s: rebooting (the boot environment falls back)`;
        this.log.error({ event: 'health.timeout' }, msg);
        void this.persist((s) => ({ ...s, lastError: { code: 'UPGRADE_HEALTH_TIMEOUT', message: msg, at: this.now() } })).then(() => this.activate('health check failed'));
      });
    }
    if (this.d.once) {
      this.timer(c.dhcp.leaseTimeoutSeconds * 1000, () => {
        if (this.lease || this.finished || this.trialPending) return;
        this.log.error({ event: 'dhcp.timeout' }, `no DHCP lease within ${c.dhcp.leaseTimeoutSeconds} s`);
        void this.persist((s) => ({ ...s, lastError: { code: 'DHCP_TIMEOUT', message: `no DHCP lease within ${c.dhcp.leaseTimeoutSeconds} s`, at: this.now() } }))
          .then(() => this.shutdown())
          .then(() => this.finish('no-lease'));
      });
    }
  }

  // ---- DHCP events ------------------------------------------------------------------

  private onAck(lease: Lease): void {
    if (this.finished || this.activating) return;
    this.lease = lease;
    this.offer = lease.option43;
    const now = this.now();
    if (lease.option43Error) {
      this.log.warn({ event: 'offer.invalid', code: lease.option43Error.code }, `option 43 could not be decoded: ${lease.option43Error.message}`);
    }
    const masked = this.offer ? maskOffer(this.offer) : null;
    this.log.info({ event: 'dhcp.ack', address: lease.address, server: lease.serverId, offer: masked }, `DHCP ACK ${lease.address} from ${lease.serverId}${this.offer?.softwareFile ? `: offer ${this.offer.softwareFile}` : ''}`);
    void (async () => {
      await this.persist((s) => onAckState(s, masked, now, lease.option43Error));
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
  }

  private onLost(reason: string): void {
    if (this.finished) return;
    this.lease = undefined;
    this.log.warn({ event: 'dhcp.lost', reason }, `DHCP lease lost: ${reason}`);
    void this.setPhase('waiting-for-lease');
  }

  // ---- the evaluation loop ----------------------------------------------------------

  private kick(): void {
    if (this.finished || this.activating) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.loop()
      .catch((e: unknown) => this.fatal(e))
      .finally(() => {
        this.busy = false;
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.finished || this.activating || !this.lease) return;
      const running = this.state.running;
      if (!running) throw new AgentError('STATE_INVALID', 'no running image record');
      const now = this.now();
      const decision = decide({
        offer: this.offer,
        running,
        staged: this.state.staged,
        policy: this.policy,
        attempts: this.state.attempts,
        ...(this.d.config.policy.fetchConfig ? { config: { applied: this.state.config, attempts: this.state.configAttempts } } : {}),
        now,
      });
      await this.record(decision, now);
      switch (decision.action) {
        case 'fetch-software':
          await this.fetchSoftware(decision);
          this.again = true;
          break;
        case 'fetch-config':
          await this.fetchConfig(decision);
          this.again = true;
          break;
        case 'activate':
          await this.activate('urgent upgrade offer');
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
    if (this.d.once) {
      await this.shutdown();
      this.finish(outcome);
    }
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.timers.delete(this.retryTimer);
    }
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
    this.log.info(
      { event: 'download.start', protocol: req.protocol, server: req.server, file: req.file, user: req.user, slot: target },
      `downloading ${req.protocol}://${req.server}/${req.file} into slot ${target}`,
    );
    const renderer = this.d.progress?.(`${req.protocol} ${d.file}`);
    this.abort = new AbortController();
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
        { onProgress, signal: this.abort.signal, ...(verifyImage ? { verifyImage } : {}) },
      );
      renderer?.done();
      const now = this.now();
      await this.persist((s) => onStaged(s, { decision: d, protocol: req.protocol, result: r, now, elapsedMs: now - t0 }));
      this.progress = null;
      this.log.info(
        { event: 'staged', slot: r.slot, version: this.state.staged?.version ?? d.version, md5: r.md5, sha256: r.sha256, bytes: r.bytes, elapsedMs: now - t0, urgent: d.urgent, signed: r.image?.refusal === null },
        `staged ${d.file} (version ${this.state.staged?.version ?? d.version ?? '?'}${r.image?.refusal === null ? ', signature verified' : ''}) in slot ${r.slot}, verified; ${d.urgent ? 'urgent: releasing the lease and rebooting' : 'awaiting reboot'}`,
      );
      if (d.urgent) await this.activate('urgent upgrade offer');
    } catch (e) {
      renderer?.done();
      this.progress = null;
      if (this.finished || this.abort.signal.aborted) return;
      await this.downloadFailed('software', d.offerKey, d.file, e);
    } finally {
      this.abort = undefined;
    }
  }

  private async fetchConfig(d: Extract<Decision, { action: 'fetch-config' }>): Promise<void> {
    const req = this.request(d.file);
    this.log.info({ event: 'config.download', protocol: req.protocol, server: req.server, file: req.file }, `downloading configuration ${req.file}`);
    this.abort = new AbortController();
    try {
      const r = await fetchConfigFile({
        fetcher: this.d.fetchers[req.protocol],
        request: req,
        md5: d.md5,
        stateDir: this.d.store.dir,
        ...(this.d.config.policy.configApplyCommand ? { applyCommand: this.d.config.policy.configApplyCommand } : {}),
        log: this.log,
        now: this.now,
        signal: this.abort.signal,
      });
      const rec = { file: r.file, md5: r.md5, size: r.bytes, path: r.path, fetchedAt: this.now() };
      await this.persist((s) =>
        withHistory({ ...s, config: rec, configAttempts: recordSuccess(s.configAttempts, d.offerKey) }, { at: this.now(), event: 'config-fetched', md5: rec.md5, detail: `${rec.file} → ${rec.path}` }),
      );
      this.log.info({ event: 'config.fetched', file: rec.file, md5: rec.md5, path: rec.path }, `configuration ${rec.file} fetched and verified → ${rec.path}`);
    } catch (e) {
      if (this.finished || this.abort.signal.aborted) return;
      await this.downloadFailed('config', d.offerKey, d.file, e);
    } finally {
      this.abort = undefined;
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
    if (this.activating || this.finished) return;
    this.activating = true;
    this.clearTimers();
    this.abort?.abort(new AgentError('DAEMON_REBOOTING', 'rebooting'));
    const now = this.now();
    const staged = this.state.staged;
    await this.persist((s) => onRebootRequested(s, reason, now));
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
    const err = asAgentError(e, 'DAEMON_INTERNAL', 'daemon');
    this.log.error({ event: 'daemon.error', code: err.code }, this.scrub(err.message));
    void this.persist((s) => ({ ...s, lastError: { code: err.code, message: this.scrub(err.message), at: this.now() } }))
      .catch(() => undefined)
      .then(() => {
        // Keep serving: the next ACK or timer tries again. In --once mode, stop.
        if (this.d.once) return this.shutdown().then(() => this.finish('stopped'));
        return undefined;
      });
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
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
    this.state = f(this.state);
    await this.d.store.save(this.state);
  }

  private async setPhase(p: RuntimePhase): Promise<void> {
    this.phase = p;
    await this.writeRuntimeNow();
  }

  private async writeRuntimeThrottled(): Promise<void> {
    if (this.now() - this.lastRuntimeWrite < 1000) return;
    await this.writeRuntimeNow();
  }

  private async writeRuntimeNow(): Promise<void> {
    if (this.finished) return;
    this.lastRuntimeWrite = this.now();
    const l = this.lease;
    await writeRuntime(this.d.store.dir, {
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: this.lastRuntimeWrite,
      phase: this.phase,
      progress: this.progress,
      lease: l ? { address: l.address, serverId: l.serverId, acquiredAt: l.acquiredAt, leaseSeconds: l.leaseSeconds } : null,
    }).catch((e: unknown) => this.log.debug({ error: e instanceof Error ? e.message : String(e) }, 'runtime file not written'));
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
