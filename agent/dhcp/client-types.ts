/**
 * Types of the pure DHCPv4 client state machine (RFC 2131 §4.4): its configuration, its
 * state, the events it consumes and the actions it returns. Everything is plain data: the
 * machine never reads a clock, a socket or the disk (see client.ts; the shell is runner.ts).
 */
import type { ClientFingerprint } from './fingerprint.ts';
import type { Lease } from './lease.ts';
import type { DhcpMessage } from './message.ts';

/**
 * IDLE        nothing started yet
 * INIT        waiting (after NAK / DECLINE / a failed apply) before a new DISCOVER
 * SELECTING   DISCOVER sent, waiting for an OFFER
 * REQUESTING  REQUEST (option 50 + 54) broadcast for the chosen OFFER
 * PROBING     ACK received, ARP probe of the address running (RFC 5227 / RFC 2131 §4.4.1)
 * INIT_REBOOT REQUEST (option 50, no 54) for a remembered lease (RFC 2131 §3.2, "REBOOTING")
 * BOUND       lease applied; timer at T1
 * RENEWING    REQUEST unicast to the server, ciaddr set; timer at T2
 * REBINDING   REQUEST broadcast, ciaddr set; timer at expiry
 * LINK_DOWN   carrier lost; the lease is kept until it expires, INIT_REBOOT on link up
 * STOPPED     stopped or released
 */
export type Phase =
  | 'IDLE'
  | 'INIT'
  | 'SELECTING'
  | 'REQUESTING'
  | 'PROBING'
  | 'INIT_REBOOT'
  | 'BOUND'
  | 'RENEWING'
  | 'REBINDING'
  | 'LINK_DOWN'
  | 'STOPPED';

export interface ClientConfig {
  iface: string;
  /** 6-byte Ethernet address (chaddr, option 61) */
  mac: Uint8Array;
  /** option 60, e.g. FS-0900E (domestic) or ESH-3105 (business) */
  vendorClass: string;
  fingerprint: ClientFingerprint;
  /** probe the address with ARP before using it; DECLINE when someone answers */
  arpCheck: boolean;
  /** seed of the machine's own PRNG (xids and retransmission jitter); the shell draws it at random */
  seed: number;
}

export interface PendingOffer {
  address: string;
  serverId: string;
}

export interface ClientState {
  readonly config: ClientConfig;
  readonly phase: Phase;
  /** PRNG state (uint32); every random draw returns the next state */
  readonly rng: number;
  /** xid of the exchange in progress */
  readonly xid: number;
  /** how many times the current message has been sent */
  readonly sends: number;
  /** when the current exchange began (the `secs` field counts from here), ms */
  readonly since: number;
  /** absolute time of the one pending timer, ms; undefined when none */
  readonly timerAt: number | undefined;
  /** the OFFER being requested (REQUESTING) */
  readonly offer: PendingOffer | undefined;
  /** the lease applied on the interface (BOUND, RENEWING, REBINDING, and kept in LINK_DOWN / INIT_REBOOT) */
  readonly lease: Lease | undefined;
  /** the lease asked for in INIT_REBOOT, or ACKed and being probed in PROBING */
  readonly candidate: Lease | undefined;
  /**
   * A remembered lease (from before a restart) that may still be configured on the interface:
   * the first bind replaces it (applyLease previous), a NAK or an ARP conflict removes it.
   */
  readonly stale: Lease | undefined;
  /** how the candidate was obtained, for the `bound` action */
  readonly candidateHow: BindHow | undefined;
  /** replies ignored because of a foreign xid / chaddr or malformed content */
  readonly ignored: number;
}

export type BindHow = 'bind' | 'reboot' | 'renew' | 'rebind';

export type ClientEvent =
  | { type: 'start'; remembered?: Lease }
  /** a decoded reply; `from` is the UDP source address when known */
  | { type: 'packet'; msg: DhcpMessage; from?: string }
  | { type: 'timer' }
  | { type: 'probeResult'; address: string; inUse: boolean }
  /** the shell could not apply the lease (it rolled back); the machine starts over */
  | { type: 'applyFailed'; reason: string }
  | { type: 'release' }
  | { type: 'stop' }
  | { type: 'linkDown' }
  | { type: 'linkUp' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ClientAction =
  | { type: 'send'; msg: DhcpMessage; to: 'broadcast' | string }
  /** replaces any pending timer */
  | { type: 'setTimer'; at: number }
  | { type: 'clearTimer' }
  | { type: 'probe'; address: string }
  | { type: 'applyLease'; lease: Lease; previous?: Lease }
  | { type: 'removeLease'; lease: Lease }
  /** every ACK that (re)binds: first bind, init-reboot, renew, rebind */
  | { type: 'bound'; lease: Lease; how: BindHow }
  /** the lease is gone (expired, NAK while bound) */
  | { type: 'lost'; reason: string }
  | { type: 'log'; level: LogLevel; msg: string; reason?: string; data?: Readonly<Record<string, string | number>> };

export interface StepResult {
  state: ClientState;
  actions: ClientAction[];
}
