/**
 * DHCPv4 client state machine (RFC 2131 §4.4), pure: `step(state, event, now) → { state, actions }`.
 * Time is the `now` argument (ms); timers are `setTimer` actions and come back as `timer`
 * events; randomness comes from the PRNG seeded in the config. The shell (runner.ts) does
 * the I/O the actions describe, in order.
 *
 *   IDLE ─start─▶ SELECTING ─OFFER─▶ REQUESTING ─ACK─▶ (PROBING ─free─▶) BOUND ─T1─▶ RENEWING ─T2─▶ REBINDING ─expiry─▶ SELECTING
 *   IDLE ─start(remembered)─▶ INIT_REBOOT ─ACK─▶ BOUND;  ─NAK─▶ INIT ─pause─▶ SELECTING;  ─no answer─▶ SELECTING
 *   NAK (REQUESTING/RENEWING/REBINDING) ─▶ INIT ─3 s─▶ SELECTING;  ARP conflict ─DECLINE─▶ INIT ─10 s─▶ SELECTING
 */
import type { BindHow, ClientAction, ClientConfig, ClientEvent, ClientState, LogLevel, Phase, StepResult } from './client-types.ts';
import type { Lease } from './lease.ts';
import type { DhcpMessage } from './message.ts';
import { MessageType, ZERO_IP } from './message.ts';
import {
  APPLY_FAIL_PAUSE_MS,
  DECLINE_PAUSE_MS,
  DISCOVER_SENDS,
  NAK_PAUSE_MS,
  REBOOT_SENDS,
  REQUEST_SENDS,
  isInfinite,
  leaseDeadlines,
  nextXid,
  renewRetransmitAt,
  retransmitDelay,
} from './client-timers.ts';
import {
  buildDecline,
  buildDiscover,
  buildRebootRequest,
  buildRelease,
  buildRenewRequest,
  buildSelectingRequest,
  chaddrMatches,
  isReply,
  leaseFromAck,
  messageTypeOf,
  serverIdOf,
  serverMessageOf,
} from './client-messages.ts';
import { messageTypeName } from './message.ts';

type Mut = { -readonly [K in keyof ClientState]: ClientState[K] };

export function initialState(config: ClientConfig): ClientState {
  return {
    config,
    phase: 'IDLE',
    rng: config.seed >>> 0,
    xid: 0,
    sends: 0,
    since: 0,
    timerAt: undefined,
    offer: undefined,
    lease: undefined,
    candidate: undefined,
    stale: undefined,
    candidateHow: undefined,
    ignored: 0,
  };
}

export function step(state: ClientState, event: ClientEvent, now: number): StepResult {
  const s: Mut = { ...state };
  const out: ClientAction[] = [];
  const m = new Machine(s, now, out);
  m.handle(event);
  return { state: s, actions: out };
}

/** Phases that wait for a reply with the current xid. */
const LISTENING: ReadonlySet<Phase> = new Set(['SELECTING', 'REQUESTING', 'INIT_REBOOT', 'RENEWING', 'REBINDING']);

class Machine {
  private readonly s: Mut;
  private readonly now: number;
  private readonly out: ClientAction[];

  constructor(s: Mut, now: number, out: ClientAction[]) {
    this.s = s;
    this.now = now;
    this.out = out;
  }

  handle(ev: ClientEvent): void {
    switch (ev.type) {
      case 'start':
        return this.onStart(ev.remembered);
      case 'packet':
        return this.onPacket(ev.msg, ev.from);
      case 'timer':
        return this.onTimer();
      case 'probeResult':
        return this.onProbe(ev.address, ev.inUse);
      case 'applyFailed':
        return this.onApplyFailed(ev.reason);
      case 'release':
        return this.onRelease();
      case 'stop':
        this.log('info', 'client stopped', undefined, { phase: this.s.phase });
        this.s.phase = 'STOPPED';
        this.s.candidate = undefined;
        this.s.offer = undefined;
        return this.clearTimer();
      case 'linkDown':
        return this.onLinkDown();
      case 'linkUp':
        return this.onLinkUp();
    }
  }

  // ── helpers ────────────────────────────────────────────────────────────────

  private log(level: LogLevel, msg: string, reason?: string, data?: Record<string, string | number>): void {
    const a: ClientAction = { type: 'log', level, msg };
    if (reason !== undefined) a.reason = reason;
    if (data !== undefined) a.data = data;
    this.out.push(a);
  }

  private setTimer(at: number): void {
    this.s.timerAt = at;
    this.out.push({ type: 'setTimer', at });
  }

  private clearTimer(): void {
    this.s.timerAt = undefined;
    this.out.push({ type: 'clearTimer' });
  }

  private freshXid(): void {
    const [xid, rng] = nextXid(this.s.rng);
    this.s.xid = xid;
    this.s.rng = rng;
    this.s.sends = 0;
    this.s.since = this.now;
  }

  private secs(): number {
    return Math.floor((this.now - this.s.since) / 1000);
  }

  /** Sends `msg` and arms the next retransmission (4, 8, 16, 32, 64 s ± 1 s). */
  private transmit(msg: DhcpMessage, to: 'broadcast' | string): void {
    this.out.push({ type: 'send', msg, to });
    this.s.sends += 1;
    const [delay, rng] = retransmitDelay(this.s.sends, this.s.rng);
    this.s.rng = rng;
    this.setTimer(this.now + delay);
  }

  private ignore(reason: string, data?: Record<string, string | number>): void {
    this.s.ignored += 1;
    this.log('debug', 'reply ignored', reason, data);
  }

  private reject(reason: string, data?: Record<string, string | number>): void {
    this.s.ignored += 1;
    this.log('warn', 'reply ignored', reason, data);
  }

  // ── exchanges ──────────────────────────────────────────────────────────────

  private beginDiscover(): void {
    this.s.phase = 'SELECTING';
    this.s.offer = undefined;
    this.s.candidate = undefined;
    this.s.candidateHow = undefined;
    this.freshXid();
    this.sendDiscover();
  }

  private sendDiscover(): void {
    this.transmit(buildDiscover(this.s.config, this.s.xid, this.secs()), 'broadcast');
  }

  private sendSelectingRequest(): void {
    const o = this.s.offer;
    if (!o) return;
    this.transmit(buildSelectingRequest(this.s.config, this.s.xid, this.secs(), o.address, o.serverId), 'broadcast');
  }

  private beginInitReboot(lease: Lease): void {
    this.s.phase = 'INIT_REBOOT';
    this.s.offer = undefined;
    this.s.candidate = lease;
    this.s.candidateHow = 'reboot';
    this.freshXid();
    this.log('info', 'INIT-REBOOT: requesting the remembered address', undefined, { address: lease.address });
    this.sendRebootRequest();
  }

  private sendRebootRequest(): void {
    const c = this.s.candidate;
    if (!c) return;
    this.transmit(buildRebootRequest(this.s.config, this.s.xid, this.secs(), c.address), 'broadcast');
  }

  /** Enters BOUND for the applied lease, or the phase its deadlines say it is already in. */
  private armBound(): void {
    const lease = this.s.lease;
    if (!lease) return this.beginDiscover();
    const { t1, t2, expiry } = leaseDeadlines(lease);
    if (this.now >= expiry) return this.expire('lease expired');
    if (this.now >= t2) return this.enterRebinding();
    if (this.now >= t1) return this.enterRenewing();
    this.s.phase = 'BOUND';
    this.s.candidate = undefined;
    this.s.candidateHow = undefined;
    this.s.offer = undefined;
    if (isInfinite(lease)) this.clearTimer();
    else this.setTimer(t1);
  }

  private enterRenewing(): void {
    const lease = this.s.lease;
    if (!lease) return;
    this.s.phase = 'RENEWING';
    this.freshXid();
    this.log('info', 'T1 reached: renewing with the server (unicast)', undefined, { server: lease.serverId, address: lease.address });
    this.sendRenew();
  }

  private enterRebinding(): void {
    const lease = this.s.lease;
    if (!lease) return;
    this.s.phase = 'REBINDING';
    this.freshXid();
    this.log('warn', 'T2 reached: rebinding with any server (broadcast)', undefined, { address: lease.address });
    this.sendRenew();
  }

  /** RENEWING/REBINDING (re)transmission: half the remaining time, min 60 s (RFC 2131 §4.4.5). */
  private sendRenew(): void {
    const lease = this.s.lease;
    if (!lease) return;
    const { t2, expiry } = leaseDeadlines(lease);
    const renewing = this.s.phase === 'RENEWING';
    const msg = buildRenewRequest(this.s.config, this.s.xid, this.secs(), lease.address);
    this.out.push({ type: 'send', msg, to: renewing ? lease.serverId : 'broadcast' });
    this.s.sends += 1;
    this.setTimer(renewRetransmitAt(this.now, renewing ? t2 : expiry));
  }

  /** The applied lease is gone: remove it and start over (or wait for the link). */
  private expire(reason: string): void {
    const lease = this.s.lease;
    if (lease) {
      this.log('warn', 'lease lost', reason, { address: lease.address });
      this.out.push({ type: 'removeLease', lease });
      this.out.push({ type: 'lost', reason });
      this.s.lease = undefined;
    }
    if (this.s.phase === 'LINK_DOWN') return this.clearTimer();
    this.beginDiscover();
  }

  /** INIT with a pause, then a fresh DISCOVER. */
  private pauseThenInit(ms: number): void {
    this.s.phase = 'INIT';
    this.s.offer = undefined;
    this.s.candidate = undefined;
    this.s.candidateHow = undefined;
    this.setTimer(this.now + ms);
  }

  private acceptNew(lease: Lease, how: BindHow): void {
    const alreadyOurs = this.s.lease?.address === lease.address;
    if (this.s.config.arpCheck && !alreadyOurs) {
      this.s.phase = 'PROBING';
      this.s.candidate = lease;
      this.s.candidateHow = how;
      this.clearTimer();
      this.out.push({ type: 'probe', address: lease.address });
      return;
    }
    this.bind(lease, how);
  }

  private bind(lease: Lease, how: BindHow): void {
    const previous = this.s.lease ?? this.s.stale;
    this.s.stale = undefined;
    const apply: ClientAction = previous ? { type: 'applyLease', lease, previous } : { type: 'applyLease', lease };
    this.out.push(apply);
    this.out.push({ type: 'bound', lease, how });
    const data: Record<string, string | number> = {
      how,
      address: `${lease.address}/${lease.prefixLength}`,
      server: lease.serverId,
      leaseSeconds: lease.leaseSeconds,
    };
    const o = lease.option43;
    if (o) data.offer = `${o.protocol ?? '?'}://${o.server ?? '?'}/${o.softwareFile ?? ''}${o.urgent ? ' urgent' : ''}`;
    if (lease.option43Error) data.option43Error = lease.option43Error.code;
    this.log('info', how === 'renew' || how === 'rebind' ? 'lease extended' : 'lease bound', undefined, data);
    this.s.lease = lease;
    this.armBound();
  }

  /** Removes a remembered lease that may still be on the interface but is no longer ours. */
  private dropStale(): void {
    const stale = this.s.stale;
    this.s.stale = undefined;
    if (stale && !this.s.lease) this.out.push({ type: 'removeLease', lease: stale });
  }

  private nak(msg: DhcpMessage): void {
    const text = serverMessageOf(msg);
    this.log('warn', 'NAK received', text ?? 'server refused the request', { phase: this.s.phase, server: serverIdOf(msg) ?? '?' });
    const lease = this.s.lease;
    if (lease) {
      this.out.push({ type: 'removeLease', lease });
      this.out.push({ type: 'lost', reason: `NAK from ${serverIdOf(msg) ?? 'server'}` });
      this.s.lease = undefined;
    }
    this.dropStale();
    this.pauseThenInit(NAK_PAUSE_MS);
  }

  // ── events ─────────────────────────────────────────────────────────────────

  private onStart(remembered: Lease | undefined): void {
    if (this.s.phase !== 'IDLE' && this.s.phase !== 'STOPPED') {
      this.log('debug', 'start ignored: already running', undefined, { phase: this.s.phase });
      return;
    }
    const usable = remembered && remembered.iface === this.s.config.iface ? remembered : undefined;
    if (!this.s.lease && usable) this.s.stale = usable;
    const prior = this.s.lease ?? usable;
    if (prior) return this.beginInitReboot(prior);
    this.beginDiscover();
  }

  private onTimer(): void {
    const at = this.s.timerAt;
    if (at === undefined) return this.log('debug', 'timer ignored: none pending', undefined, { phase: this.s.phase });
    if (this.now < at) return this.setTimer(at);
    this.s.timerAt = undefined;
    switch (this.s.phase) {
      case 'INIT':
        return this.beginDiscover();
      case 'SELECTING':
        if (this.s.sends >= DISCOVER_SENDS) {
          this.log('info', 'no OFFER received; starting a new exchange', undefined, { sends: this.s.sends });
          return this.beginDiscover();
        }
        return this.sendDiscover();
      case 'REQUESTING':
        if (this.s.sends >= REQUEST_SENDS) {
          this.log('warn', 'no ACK for REQUEST; back to INIT', undefined, { sends: this.s.sends });
          return this.beginDiscover();
        }
        return this.sendSelectingRequest();
      case 'INIT_REBOOT':
        if (this.s.sends >= REBOOT_SENDS) {
          if (this.s.lease) {
            this.log('warn', 'no answer to INIT-REBOOT; keeping the unexpired lease', undefined, { address: this.s.lease.address });
            return this.armBound();
          }
          this.log('info', 'no answer to INIT-REBOOT; back to INIT', undefined, { sends: this.s.sends });
          return this.beginDiscover();
        }
        return this.sendRebootRequest();
      case 'BOUND':
        return this.armBound();
      case 'RENEWING': {
        const lease = this.s.lease;
        if (!lease) return this.beginDiscover();
        const { t2, expiry } = leaseDeadlines(lease);
        // a timer that fires late (suspend, clock jump) may find the lease already gone
        if (this.now >= expiry) return this.expire('lease expired (no answer while renewing)');
        if (this.now >= t2) return this.enterRebinding();
        return this.sendRenew();
      }
      case 'REBINDING': {
        const lease = this.s.lease;
        if (!lease) return this.beginDiscover();
        if (this.now >= leaseDeadlines(lease).expiry) return this.expire('lease expired (no answer while rebinding)');
        return this.sendRenew();
      }
      case 'LINK_DOWN': {
        const lease = this.s.lease;
        if (lease && this.now >= leaseDeadlines(lease).expiry) return this.expire('lease expired while the link was down');
        return;
      }
      case 'PROBING':
      case 'IDLE':
      case 'STOPPED':
        return;
    }
  }

  private onPacket(msg: DhcpMessage, from: string | undefined): void {
    if (!LISTENING.has(this.s.phase)) {
      this.log('debug', 'reply ignored: not waiting for one', undefined, { phase: this.s.phase });
      return;
    }
    if (!isReply(msg)) return this.ignore('not a BOOTREPLY', { op: msg.op });
    if (msg.xid >>> 0 !== this.s.xid) return this.ignore('foreign xid', { xid: msg.xid >>> 0, expected: this.s.xid });
    if (!chaddrMatches(msg, this.s.config.mac)) return this.ignore('foreign chaddr', { xid: msg.xid >>> 0 });
    const type = messageTypeOf(msg);
    if (type === undefined) return this.reject('reply without message type (option 53)');
    const data: Record<string, string | number> = { type: messageTypeName(type), phase: this.s.phase };
    if (from !== undefined) data.from = from;

    switch (this.s.phase) {
      case 'SELECTING': {
        if (type !== MessageType.OFFER) return this.ignore('not an OFFER', data);
        const serverId = serverIdOf(msg);
        if (serverId === undefined) return this.reject('OFFER without server identifier (option 54)', data);
        if (msg.yiaddr === ZERO_IP) return this.reject('OFFER with yiaddr 0.0.0.0', data);
        this.log('info', 'OFFER received', undefined, { address: msg.yiaddr, server: serverId });
        this.s.offer = { address: msg.yiaddr, serverId };
        this.s.phase = 'REQUESTING';
        this.s.sends = 0;
        return this.sendSelectingRequest();
      }
      case 'REQUESTING': {
        const offer = this.s.offer;
        if (!offer) return this.beginDiscover();
        const sid = serverIdOf(msg);
        if (type === MessageType.NAK) {
          if (sid !== undefined && sid !== offer.serverId) return this.ignore('NAK from a server not selected', data);
          return this.nak(msg);
        }
        if (type !== MessageType.ACK) return this.ignore('not an ACK/NAK', data);
        if (sid !== undefined && sid !== offer.serverId) return this.ignore('ACK from a server not selected', data);
        const r = leaseFromAck(this.s.config, msg, this.now, offer.serverId);
        if (!r.ok) return this.reject(r.reason, data);
        return this.acceptNew(r.lease, 'bind');
      }
      case 'INIT_REBOOT': {
        if (type === MessageType.NAK) return this.nak(msg);
        if (type !== MessageType.ACK) return this.ignore('not an ACK/NAK', data);
        const r = leaseFromAck(this.s.config, msg, this.now, from);
        if (!r.ok) return this.reject(r.reason, data);
        return this.acceptNew(r.lease, 'reboot');
      }
      case 'RENEWING':
      case 'REBINDING': {
        const lease = this.s.lease;
        if (!lease) return this.beginDiscover();
        const renewing = this.s.phase === 'RENEWING';
        const sid = serverIdOf(msg);
        if (type === MessageType.NAK) {
          if (renewing && sid !== undefined && sid !== lease.serverId) return this.ignore('NAK from another server while renewing', data);
          return this.nak(msg);
        }
        if (type !== MessageType.ACK) return this.ignore('not an ACK/NAK', data);
        const r = leaseFromAck(this.s.config, msg, this.now, renewing ? lease.serverId : from);
        if (!r.ok) return this.reject(r.reason, data);
        if (r.lease.address !== lease.address) {
          // A renewal answers for ciaddr; a different yiaddr is a new binding: probe it first.
          return this.acceptNew(r.lease, renewing ? 'renew' : 'rebind');
        }
        return this.bind(r.lease, renewing ? 'renew' : 'rebind');
      }
      default:
        return;
    }
  }

  private onProbe(address: string, inUse: boolean): void {
    const c = this.s.candidate;
    if (this.s.phase !== 'PROBING' || !c || c.address !== address) {
      this.log('debug', 'probe result ignored', undefined, { address, phase: this.s.phase });
      return;
    }
    if (!inUse) return this.bind(c, this.s.candidateHow ?? 'bind');
    this.log('warn', 'address in use (ARP reply): DECLINE', undefined, { address, server: c.serverId });
    this.out.push({ type: 'send', msg: buildDecline(this.s.config, this.s.xid, c.address, c.serverId), to: 'broadcast' });
    const lease = this.s.lease;
    if (lease) {
      this.out.push({ type: 'removeLease', lease });
      this.out.push({ type: 'lost', reason: `address ${address} in use` });
      this.s.lease = undefined;
    }
    if (this.s.stale?.address === address) this.dropStale();
    this.pauseThenInit(DECLINE_PAUSE_MS);
  }

  private onApplyFailed(reason: string): void {
    this.log('error', 'could not apply the lease; starting over', reason);
    const lease = this.s.lease;
    if (lease) {
      this.out.push({ type: 'removeLease', lease });
      this.out.push({ type: 'lost', reason: `apply failed: ${reason}` });
      this.s.lease = undefined;
    }
    this.pauseThenInit(APPLY_FAIL_PAUSE_MS);
  }

  private onRelease(): void {
    const lease = this.s.lease ?? (this.s.phase === 'PROBING' ? this.s.candidate : undefined);
    if (lease) {
      const [xid, rng] = nextXid(this.s.rng);
      this.s.rng = rng;
      this.out.push({ type: 'send', msg: buildRelease(this.s.config, xid, lease.address, lease.serverId), to: lease.serverId });
      this.log('info', 'RELEASE sent', undefined, { address: lease.address, server: lease.serverId });
      if (this.s.lease) this.out.push({ type: 'removeLease', lease: this.s.lease });
      this.s.lease = undefined;
    } else {
      this.log('info', 'release: no lease to release', undefined, { phase: this.s.phase });
    }
    this.s.stale = undefined;
    this.s.phase = 'STOPPED';
    this.s.candidate = undefined;
    this.s.candidateHow = undefined;
    this.s.offer = undefined;
    this.clearTimer();
  }

  private onLinkDown(): void {
    if (this.s.phase === 'IDLE' || this.s.phase === 'STOPPED' || this.s.phase === 'LINK_DOWN') return;
    this.log('info', 'link down', undefined, { phase: this.s.phase });
    this.s.phase = 'LINK_DOWN';
    this.s.offer = undefined;
    this.s.candidate = undefined;
    this.s.candidateHow = undefined;
    const lease = this.s.lease;
    if (lease && !isInfinite(lease) && this.now >= leaseDeadlines(lease).expiry) return this.expire('lease expired while the link was down');
    if (lease && !isInfinite(lease)) this.setTimer(leaseDeadlines(lease).expiry);
    else this.clearTimer();
  }

  private onLinkUp(): void {
    if (this.s.phase !== 'LINK_DOWN') return;
    this.log('info', 'link up');
    const lease = this.s.lease;
    if (lease && this.now < leaseDeadlines(lease).expiry) return this.beginInitReboot(lease);
    this.s.phase = 'INIT';
    if (lease) return this.expire('lease expired while the link was down');
    this.beginDiscover();
  }
}
