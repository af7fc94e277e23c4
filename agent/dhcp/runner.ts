/**
 * The DHCP client as a running service: the pure state machine (client.ts) wired to a UDP
 * socket, a monotonic clock, a network backend (NetConfigurator) and the lease memory.
 * Events are processed strictly one at a time and the actions of one step are executed in
 * order (a RELEASE leaves before the address is removed; `bound` runs only once the lease is
 * applied). This is the contract the upgrade daemon uses.
 */
import { monotonicMs } from '../util/clock.ts';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log.ts';
import type { LeaseConfig, NetConfigurator } from '../../platform/types.ts';
import type { ClientAction, ClientEvent, ClientState } from './client-types.ts';
import type { ClientFingerprint } from './fingerprint.ts';
import type { Lease } from './lease.ts';
import { initialState, step } from './client.ts';
import { CTS_FINGERPRINT } from './fingerprint.ts';
import { clearLease, loadLease, saveLease } from './lease-store.ts';
import { UdpDhcpSocket, type DhcpSocketHandlers, type DhcpTransport } from './udp.ts';
import { messageTypeName } from './message.ts';
import { messageTypeOf } from './client-messages.ts';
import { AgentError, asAgentError } from '../errors.ts';
import { macToString, parseMac } from '../util/bytes.ts';
import { profileForClass, unknownFlagBits } from '../option43/index.ts';

export interface DhcpRunnerOptions {
  iface: string;
  vendorClass: string;
  net: NetConfigurator;
  log: Logger;
  /** remembers the lease (atomic JSON) for INIT-REBOOT across restarts */
  stateDir?: string;
  fingerprint?: ClientFingerprint;
  arpCheck?: boolean;
  random?: () => number;
  /** EVERY ACK: first bind, init-reboot, renew, rebind */
  onAck?: (lease: Lease) => void;
  /** lease expired or NAK while bound */
  onLost?: (reason: string) => void;
  // ── optional seams (tests, benchmarks) ──
  /** hardware address; default read from /sys/class/net/IF/address */
  mac?: string;
  /** transport factory; default the UDP socket on port 68 */
  transport?: (h: DhcpSocketHandlers) => Promise<DhcpTransport>;
  /** ms clock; default monotonic (agent/util/clock.ts) */
  clock?: () => number;
  /** poll /sys/class/net/IF/carrier every second and feed linkDown/linkUp (default true) */
  watchLink?: boolean;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

function toLeaseConfig(l: Lease): LeaseConfig {
  const c: LeaseConfig = { iface: l.iface, address: l.address, prefixLength: l.prefixLength, routers: l.routers, dns: l.dns };
  if (l.domain !== undefined) c.domain = l.domain;
  return c;
}

export async function readInterfaceMac(iface: string): Promise<string> {
  if (!/^[A-Za-z0-9_.@:-]{1,15}$/.test(iface)) throw new AgentError('DHCP_IFACE_INVALID', `not an interface name: ${JSON.stringify(iface)}`);
  try {
    return (await readFile(`/sys/class/net/${iface}/address`, 'utf8')).trim();
  } catch (e) {
    throw new AgentError('DHCP_IFACE_MISSING', `interface ${iface} not found`, { iface }, { cause: e });
  }
}

interface Waiter {
  resolve: (l: Lease) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class DhcpRunner {
  private readonly opts: DhcpRunnerOptions;
  private readonly log: Logger;
  private readonly clock: () => number;
  private state: ClientState | undefined;
  private transport: DhcpTransport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private linkTimer: NodeJS.Timeout | undefined;
  /** last carrier seen; assumed up at start so a down link is reported on the first poll */
  private carrier = true;
  private queue: Promise<void> = Promise.resolve();
  private waiters: Waiter[] = [];
  private running = false;
  private malformed = 0;
  /** the offer whose unknown flag bits were last reported (reported once, not per renewal) */
  private flagsReported: string | undefined;

  constructor(opts: DhcpRunnerOptions) {
    this.opts = opts;
    this.log = opts.log.child({ mod: 'dhcp', iface: opts.iface });
    this.clock = opts.clock ?? monotonicMs;
  }

  /** The lease applied on the interface, if any. */
  get lease(): Lease | undefined {
    return this.state?.lease;
  }

  /** Phase of the state machine (for status views). */
  get phase(): string {
    return this.state?.phase ?? 'IDLE';
  }

  /** Replies ignored (foreign xid/chaddr, invalid) plus datagrams that did not decode. */
  get ignoredReplies(): number {
    return (this.state?.ignored ?? 0) + this.malformed;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    if (!/^[\x20-\x7e]{1,255}$/.test(o.vendorClass)) {
      throw new AgentError('DHCP_VENDOR_CLASS_INVALID', 'vendor class (option 60) must be 1..255 printable ASCII characters', { length: o.vendorClass.length });
    }
    const mac = parseMac(o.mac ?? (await readInterfaceMac(o.iface)));
    let remembered: Lease | undefined;
    if (o.stateDir !== undefined) {
      const r = await loadLease(o.stateDir, o.iface);
      if (r.kind === 'ok') remembered = r.lease;
      else if (r.kind === 'invalid') this.log.warn({ reason: r.reason }, 'remembered lease ignored');
    }
    const random = o.random ?? Math.random;
    this.state = initialState({
      iface: o.iface,
      mac,
      vendorClass: o.vendorClass,
      fingerprint: o.fingerprint ?? CTS_FINGERPRINT,
      arpCheck: o.arpCheck ?? true,
      seed: Math.floor(random() * 4294967296) >>> 0,
    });
    // The broadcast route (an `ip` child process) and the socket (dgram's first bind loads
    // Node's cluster module) are set up side by side: both are on the way to the first DISCOVER.
    const route = o.net.addBroadcastRoute(o.iface).then(
      () => undefined,
      (e: unknown) => e,
    );
    const handlers: DhcpSocketHandlers = {
      onMessage: (msg, from) => void this.dispatch({ type: 'packet', msg, from }),
      onMalformed: (e, from) => {
        this.malformed++;
        this.log.debug({ from, code: e.code, reason: e.message }, 'malformed datagram ignored');
      },
      onError: (e) => this.log.error({ code: e.code, reason: e.message }, 'socket error'),
    };
    const opened = (o.transport ?? ((h) => UdpDhcpSocket.open(h)))(handlers).then(
      (t) => ({ ok: true as const, t }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    const [routeErr, sock] = await Promise.all([route, opened]);
    if (routeErr !== undefined) {
      if (sock.ok) await sock.t.close();
      throw routeErr;
    }
    if (!sock.ok) {
      await o.net.removeBroadcastRoute(o.iface).catch(() => undefined);
      throw sock.e;
    }
    this.transport = sock.t;
    this.running = true;
    this.log.info({ vendorClass: o.vendorClass, mac: macToString(mac), remembered: remembered?.address }, 'DHCP client started');
    await this.dispatch(remembered ? { type: 'start', remembered } : { type: 'start' });
    if (o.watchLink ?? true) this.startLinkWatch();
  }

  waitForLease(timeoutMs: number): Promise<Lease> {
    const l = this.boundLease();
    if (l) return Promise.resolve(l);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new AgentError('DHCP_TIMEOUT', `no DHCP lease on ${this.opts.iface} within ${Math.round(timeoutMs / 1000)} s`, { iface: this.opts.iface, phase: this.phase }));
      }, timeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  /** RELEASE to the server, remove the lease from the interface, forget it, stop. */
  async release(): Promise<void> {
    if (this.running) await this.dispatch({ type: 'release' });
    if (this.opts.stateDir !== undefined) await clearLease(this.opts.stateDir, this.opts.iface).catch(() => undefined);
    await this.shutdown('released');
  }

  /**
   * Stops the client; the address stays on the interface and the lease in memory (INIT-REBOOT
   * next start); the resolv.conf found before is put back (nobody keeps ours current now).
   */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    if (this.running) await this.dispatch({ type: 'stop' });
    await this.shutdown('stopped');
    if (wasRunning) {
      await this.opts.net.restoreDns?.(this.opts.iface).catch((e: unknown) => this.log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'resolv.conf not restored'));
    }
  }

  // ── internals ───────────────────────────────────────────────────────────────

  private boundLease(): Lease | undefined {
    const p = this.state?.phase;
    return p === 'BOUND' || p === 'RENEWING' || p === 'REBINDING' ? this.state?.lease : undefined;
  }

  private async shutdown(why: string): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.timer = undefined;
    this.linkTimer = undefined;
    await this.queue;
    await this.transport?.close();
    this.transport = undefined;
    await this.opts.net.removeBroadcastRoute(this.opts.iface).catch((e: unknown) => this.log.warn({ reason: String(e) }, 'removing the broadcast route failed'));
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new AgentError('DHCP_STOPPED', `DHCP client ${why} before a lease was bound`, { iface: this.opts.iface }));
    }
    this.waiters = [];
  }

  private dispatch(ev: ClientEvent): Promise<void> {
    this.queue = this.queue
      .then(() => (this.running ? this.process(ev) : undefined))
      .catch((e: unknown) => this.log.error({ reason: e instanceof Error ? e.message : String(e) }, 'DHCP event failed'));
    return this.queue;
  }

  private async process(ev: ClientEvent): Promise<void> {
    if (!this.state) return;
    const now = this.clock();
    const { state, actions } = step(this.state, ev, now);
    this.state = state;
    for (const a of actions) {
      const ok = await this.execute(a, now);
      if (!ok) return;
    }
  }

  /** Executes one action; false stops the rest of the batch (the lease could not be applied). */
  private async execute(a: ClientAction, now: number): Promise<boolean> {
    const o = this.opts;
    switch (a.type) {
      case 'send': {
        const t = messageTypeOf(a.msg);
        const name = t === undefined ? '?' : messageTypeName(t);
        try {
          await this.transport?.send(a.msg, a.to);
          this.log.debug({ type: name, to: a.to, xid: a.msg.xid }, 'sent');
        } catch (e) {
          // the retransmission timer covers a lost send
          this.log.warn({ type: name, to: a.to, reason: asAgentError(e, 'DHCP_SEND_FAILED', 'send').message }, 'send failed');
        }
        return true;
      }
      case 'setTimer':
        this.armTimer(a.at, now);
        return true;
      case 'clearTimer':
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        return true;
      case 'probe':
        void o.net.addressInUse(o.iface, a.address).then(
          (inUse) => this.dispatch({ type: 'probeResult', address: a.address, inUse }),
          (e: unknown) => {
            this.log.warn({ address: a.address, reason: e instanceof Error ? e.message : String(e) }, 'ARP probe failed; assuming the address is free');
            return this.dispatch({ type: 'probeResult', address: a.address, inUse: false });
          },
        );
        return true;
      case 'applyLease':
        try {
          await o.net.applyLease(toLeaseConfig(a.lease), a.previous ? toLeaseConfig(a.previous) : undefined);
          if (a.previous && a.previous.address !== a.lease.address) await this.ensureBroadcastRoute();
          return true;
        } catch (e) {
          const err = asAgentError(e, 'NET_APPLY_FAILED', 'applying the lease');
          this.log.error({ code: err.code, reason: err.message }, 'lease not applied (rolled back)');
          await this.ensureBroadcastRoute();
          await this.process({ type: 'applyFailed', reason: err.message });
          return false;
        }
      case 'removeLease':
        try {
          await o.net.removeLease(toLeaseConfig(a.lease));
        } catch (e) {
          this.log.error({ reason: e instanceof Error ? e.message : String(e) }, 'removing the lease failed');
        }
        await this.ensureBroadcastRoute();
        if (o.stateDir !== undefined) await clearLease(o.stateDir, o.iface).catch(() => undefined);
        return true;
      case 'bound': {
        if (o.stateDir !== undefined) {
          await saveLease(o.stateDir, a.lease).catch((e: unknown) => this.log.warn({ reason: String(e) }, 'lease not remembered'));
        }
        for (const w of this.waiters) {
          clearTimeout(w.timer);
          w.resolve(a.lease);
        }
        this.waiters = [];
        this.reportUnknownFlags(a.lease);
        this.callback(() => o.onAck?.(a.lease));
        return true;
      }
      case 'lost':
        if (o.stateDir !== undefined) await clearLease(o.stateDir, o.iface).catch(() => undefined);
        this.callback(() => o.onLost?.(a.reason));
        return true;
      case 'log': {
        const fields: Record<string, string | number> = { ...(a.data ?? {}) };
        if (a.reason !== undefined) fields.reason = a.reason;
        this.log[a.level](fields, a.msg);
        return true;
      }
    }
  }

  /**
   * The kernel flushes every route of a device when its last IPv4 address goes (found in the
   * lab: after an expiry DISCOVER failed with ENETUNREACH), so the broadcast host route is put
   * back whenever an address was removed while the client runs.
   */
  private async ensureBroadcastRoute(): Promise<void> {
    if (!this.running) return;
    await this.opts.net.addBroadcastRoute(this.opts.iface).catch((e: unknown) => this.log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'broadcast route not restored'));
  }

  /** Flag bits the vendor profile gives no meaning are ignored, and said so once per offer. */
  private reportUnknownFlags(lease: Lease): void {
    const offer = lease.option43;
    const bits = offer ? unknownFlagBits(profileForClass(lease.vendorClass), offer) : 0;
    if (!offer || bits === 0) return;
    const key = lease.option43Hex ?? String(offer.flags);
    if (key === this.flagsReported) return;
    this.flagsReported = key;
    const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
    this.log.warn({ event: 'offer.flags', flags: hex(offer.flags ?? 0), unknownBits: hex(bits) }, `option 43 flags ${hex(offer.flags ?? 0)}: unknown bits ${hex(bits)} ignored (defined: bit 0, urgent)`);
  }

  private callback(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ reason: e instanceof Error ? e.message : String(e) }, 'lease callback threw');
    }
  }

  private armTimer(at: number, now: number): void {
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(MAX_TIMEOUT, Math.max(0, Math.ceil(at - now)));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.dispatch({ type: 'timer' });
    }, delay);
  }

  private startLinkWatch(): void {
    const path = `/sys/class/net/${this.opts.iface}/carrier`;
    const poll = async (): Promise<void> => {
      let up: boolean;
      try {
        up = (await readFile(path, 'utf8')).trim() === '1';
      } catch {
        up = false; // EINVAL while the interface is administratively down
      }
      if (up !== this.carrier) await this.dispatch({ type: up ? 'linkUp' : 'linkDown' });
      this.carrier = up;
    };
    void poll();
    this.linkTimer = setInterval(() => void poll(), 1000);
  }
}
