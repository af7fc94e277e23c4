/**
 * The subscriber manager's state as the pure rules see it: IP mappings and subscribers.
 * The store implements StateView; the rules only read it and return operations.
 */
export interface IpMapping {
  ip: string;
  subscriber: string;
  /** the client (CPE) hardware address that holds the lease */
  chaddr: string;
  /** xid of the last transaction applied to this mapping */
  xid: number;
  leaseSeconds: number;
  /** ms since the epoch; null = infinite lease (never auto-logged out) */
  expiresAt: number | null;
  /** ms: time of the last transaction applied */
  updatedAt: number;
  active: boolean;
  /** why an inactive mapping ended: release, decline, reassigned, expired */
  endReason: string | null;
  /**
   * the kind of the last ACK applied: true = to a renewal (ciaddr set), false = initial
   * (ciaddr 0), undefined = not known (RDR, or loaded from the database: not stored)
   */
  renewing?: boolean | undefined;
}

export interface SubscriberRecord {
  id: string;
  package: string | null;
  /** true when the last logon came from a modem transaction (cable) */
  modem: boolean;
  lastXid: number;
  lastChaddr: string;
  /** ms of the last transaction */
  updatedAt: number;
  createdAt: number;
}

export interface StateView {
  mapping(ip: string): IpMapping | undefined;
  subscriber(id: string): SubscriberRecord | undefined;
  /**
   * `subscriber(chaddr)` when that record may be a modem whose last transaction had `xid`
   * (the modem-duplicate check of every cable ACK); undefined only when it cannot be one.
   * The store answers most CPE ACKs from a filter, without a lookup.
   */
  modemCandidate(chaddr: string, xid: number): SubscriberRecord | undefined;
  /** the active mapping an ACK (chaddr, xid) created recently, for a DECLINE without option 50 */
  mappingByAck(chaddr: string, xid: number): IpMapping | undefined;
}

export type TransactionName = 'initial' | 'extension' | 'ack' | 'release' | 'decline' | 'expiry';

interface OpBase {
  time: number;
  subscriber: string | null;
  ip: string | null;
  modem: boolean;
  chaddr: string | null;
  xid: number | null;
  transaction: TransactionName;
}

export interface LogonOp extends OpBase {
  kind: 'logon' | 'extend';
  subscriber: string;
  leaseSeconds: number;
  expiresAt: number | null;
  package: string | null;
}

export interface LogoutOp extends OpBase {
  kind: 'logout' | 'auto-logout';
  subscriber: string;
  ip: string;
  reason: 'release' | 'decline' | 'reassigned' | 'expired';
}

export interface RejectOp extends OpBase {
  kind: 'rejected';
  reason: string;
  leaseSeconds: number | null;
}

/** Counted, no event: not a LEG transaction (DISCOVER…), or a repeat of one already applied. */
export interface SilentOp {
  kind: 'ignored' | 'duplicate';
  reason: string;
  time: number;
}

/**
 * Not acted on: an ACK from a server that is not trusted, a RELEASE/DECLINE that did not go
 * to a trusted server (rules/trust.ts). Counted (bounded) and logged (throttled); no event.
 */
export interface UntrustedOp {
  kind: 'untrusted';
  reason: 'server' | 'release' | 'decline';
  /** the server that answered (ACK), or where the client message went */
  peer: string;
  time: number;
  chaddr: string;
  xid: number;
}

export type Op = LogonOp | LogoutOp | RejectOp | SilentOp | UntrustedOp;
