/**
 * Which LEG transaction a message is (seeds/003): an ACK to an unbound client (ciaddr 0)
 * is an initial logon, an ACK with ciaddr set a lease extension (renew/rebind), a RELEASE
 * a release. DECLINE is handled (see rules/decline.ts). DISCOVER, OFFER, REQUEST, NAK,
 * INFORM, leasequery and BOOTP are not LEG transactions: ignored, counted by type.
 * A NAK carries no address (RFC 2131 table 3: ciaddr/yiaddr 0) and revokes nothing an ACK
 * granted that expiry would not end anyway, so it is ignored too. Pure.
 */
import type { LegTransaction } from '../transaction.ts';
import { MessageType, ZERO_IP, messageTypeName } from '../../dhcp/message.ts';

export type Classified =
  | { kind: 'initial' | 'extension' | 'ack' | 'release' | 'decline' }
  | { kind: 'ignored'; reason: string };

// results built once (classify runs for every message; most are only counted)
const IGNORED: Classified[] = [];
for (let i = 0; i < 256; i++) IGNORED.push({ kind: 'ignored', reason: i === 0 ? 'BOOTP' : messageTypeName(i) });
const ACK: Classified = { kind: 'ack' };
const INITIAL: Classified = { kind: 'initial' };
const EXTENSION: Classified = { kind: 'extension' };
const RELEASE: Classified = { kind: 'release' };
const DECLINE: Classified = { kind: 'decline' };
const ACK_WITHOUT_YIADDR: Classified = { kind: 'ignored', reason: 'ACK-without-yiaddr' };

export function classify(tx: LegTransaction): Classified {
  switch (tx.messageType) {
    case MessageType.ACK:
      // An ACK answering an INFORM assigns nothing (yiaddr 0, no lease, RFC 2131 §4.3.5).
      if (tx.yiaddr === ZERO_IP) return ACK_WITHOUT_YIADDR;
      if (tx.renewing === undefined) return ACK;
      return tx.renewing ? EXTENSION : INITIAL;
    case MessageType.RELEASE:
      return RELEASE;
    case MessageType.DECLINE:
      return DECLINE;
    default:
      return IGNORED[tx.messageType] ?? { kind: 'ignored', reason: messageTypeName(tx.messageType) };
  }
}
