/**
 * Which LEG transaction a message is (seeds/003): an ACK to an unbound client (ciaddr 0)
 * is an initial logon, an ACK with ciaddr set a lease extension (renew/rebind), a RELEASE
 * a release. DECLINE is handled (see rules/decline.ts). DISCOVER, OFFER, REQUEST, NAK,
 * INFORM, leasequery and BOOTP are not LEG transactions: ignored, counted by type.
 * A NAK carries no address (RFC 2131 table 3: ciaddr/yiaddr 0) and revokes nothing an ACK
 * granted that expiry would not end anyway, so it is ignored too. Pure.
 */
import type { LegTransaction } from '../transaction.ts';
import { ZERO_IP } from '../transaction.ts';
import { MessageType, messageTypeName } from '../../dhcp/message.ts';

const NAMES: string[] = [];
for (let i = 0; i < 256; i++) NAMES.push(messageTypeName(i));

export type Classified =
  | { kind: 'initial' | 'extension' | 'ack' | 'release' | 'decline' }
  | { kind: 'ignored'; reason: string };

export function classify(tx: LegTransaction): Classified {
  switch (tx.messageType) {
    case MessageType.ACK:
      // An ACK answering an INFORM assigns nothing (yiaddr 0, no lease, RFC 2131 §4.3.5).
      if (tx.yiaddr === ZERO_IP) return { kind: 'ignored', reason: 'ACK-without-yiaddr' };
      if (tx.renewing === undefined) return { kind: 'ack' };
      return { kind: tx.renewing ? 'extension' : 'initial' };
    case MessageType.RELEASE:
      return { kind: 'release' };
    case MessageType.DECLINE:
      return { kind: 'decline' };
    case 0:
      return { kind: 'ignored', reason: 'BOOTP' };
    default:
      return { kind: 'ignored', reason: NAMES[tx.messageType] ?? messageTypeName(tx.messageType) };
  }
}
