import { describe, expect, it } from 'vitest';
import { classify } from '../../../agent/leg/rules/classify.ts';
import { MessageType } from '../../../agent/dhcp/message.ts';
import { tx } from '../helpers.ts';

describe('classify: which messages are LEG transactions', () => {
  it.each([
    ['ACK to an unbound client (ciaddr 0) → initial logon', tx({}), { kind: 'initial' }],
    ['ACK with ciaddr set (renew/rebind) → lease extension', tx({ ciaddr: '198.18.80.10' }), { kind: 'extension' }],
    ['ACK from an RDR (ciaddr unknown) → ack', tx({ renewing: undefined }), { kind: 'ack' }],
    ['ACK to an INFORM (yiaddr 0) → ignored', tx({ yiaddr: '0.0.0.0', ciaddr: '198.18.80.10' }), { kind: 'ignored', reason: 'ACK-without-yiaddr' }],
    ['RELEASE → release', tx({ type: MessageType.RELEASE }), { kind: 'release' }],
    ['DECLINE → decline', tx({ type: MessageType.DECLINE }), { kind: 'decline' }],
    ['DISCOVER ignored', tx({ type: MessageType.DISCOVER }), { kind: 'ignored', reason: 'DISCOVER' }],
    ['OFFER ignored', tx({ type: MessageType.OFFER }), { kind: 'ignored', reason: 'OFFER' }],
    ['REQUEST ignored', tx({ type: MessageType.REQUEST }), { kind: 'ignored', reason: 'REQUEST' }],
    ['NAK ignored', tx({ type: MessageType.NAK }), { kind: 'ignored', reason: 'NAK' }],
    ['INFORM ignored', tx({ type: MessageType.INFORM }), { kind: 'ignored', reason: 'INFORM' }],
    ['LEASEACTIVE ignored', tx({ type: MessageType.LEASEACTIVE }), { kind: 'ignored', reason: 'LEASEACTIVE' }],
    ['BOOTP (no option 53) ignored', tx({ type: 0 }), { kind: 'ignored', reason: 'BOOTP' }],
    ['unknown type ignored', tx({ type: 200 }), { kind: 'ignored', reason: 'UNKNOWN(200)' }],
  ])('%s', (_n, t, want) => {
    expect(classify(t)).toEqual(want);
  });
});
