/**
 * Fixtures for the client state machine tests: a config, server replies as DhcpMessage
 * objects, and a driver that walks the machine to a given phase on a fake clock.
 */
import { expect } from 'vitest';
import type { ClientAction, ClientConfig, ClientEvent, ClientState } from '../../agent/dhcp/client-types.ts';
import type { DhcpMessage, DhcpOption } from '../../agent/dhcp/message.ts';
import { BOOTREPLY, MessageType, Opt, newMessage } from '../../agent/dhcp/message.ts';
import { initialState, step } from '../../agent/dhcp/client.ts';
import { CTS_FINGERPRINT } from '../../agent/dhcp/fingerprint.ts';
import { parseIpv4 } from '../../agent/util/bytes.ts';

export const MAC = Uint8Array.from([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]);
export const SERVER = '198.18.16.1';
export const ADDR = '198.18.16.100';
export const T0 = 1_000_000;

export function config(over: Partial<ClientConfig> = {}): ClientConfig {
  return { iface: 'wan0', mac: MAC, vendorClass: 'FS-0900E', fingerprint: CTS_FINGERPRINT, arpCheck: false, seed: 42, ...over };
}

export function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

export interface ReplyOpts {
  xid: number;
  yiaddr?: string;
  chaddr?: Uint8Array;
  op?: number;
  serverId?: string | null;
  lease?: number | null;
  t1?: number;
  t2?: number;
  mask?: string;
  extra?: DhcpOption[];
}

export function reply(type: number, o: ReplyOpts): DhcpMessage {
  const chaddr = new Uint8Array(16);
  chaddr.set(o.chaddr ?? MAC);
  const options: DhcpOption[] = [{ code: Opt.MESSAGE_TYPE, data: Uint8Array.from([type]) }];
  const sid = o.serverId === undefined ? SERVER : o.serverId;
  if (sid !== null) options.push({ code: Opt.SERVER_ID, data: parseIpv4(sid) });
  if (type !== MessageType.NAK) {
    const lease = o.lease === undefined ? 3600 : o.lease;
    if (lease !== null) options.push({ code: Opt.LEASE_TIME, data: Uint8Array.from(u32(lease)) });
    if (o.t1 !== undefined) options.push({ code: Opt.RENEWAL_T1, data: Uint8Array.from(u32(o.t1)) });
    if (o.t2 !== undefined) options.push({ code: Opt.REBINDING_T2, data: Uint8Array.from(u32(o.t2)) });
    options.push({ code: Opt.SUBNET_MASK, data: parseIpv4(o.mask ?? '255.255.255.0') });
    options.push({ code: Opt.ROUTER, data: parseIpv4(SERVER) });
    options.push({ code: Opt.DNS, data: Uint8Array.from([198, 18, 16, 53, 198, 18, 16, 54]) });
  }
  options.push(...(o.extra ?? []));
  return newMessage({
    op: o.op ?? BOOTREPLY,
    xid: o.xid,
    flags: 0x8000,
    yiaddr: type === MessageType.NAK ? '0.0.0.0' : (o.yiaddr ?? ADDR),
    chaddr,
    options,
  });
}

export function opt(msg: DhcpMessage, code: number): number[] | undefined {
  const o = msg.options.find((x) => x.code === code);
  return o ? [...o.data] : undefined;
}

export function sends(actions: ClientAction[]): Array<Extract<ClientAction, { type: 'send' }>> {
  return actions.filter((a): a is Extract<ClientAction, { type: 'send' }> => a.type === 'send');
}

export function onlySend(actions: ClientAction[]): Extract<ClientAction, { type: 'send' }> {
  const s = sends(actions);
  expect(s).toHaveLength(1);
  const first = s[0];
  if (!first) throw new Error('no send');
  return first;
}

export function timerOf(actions: ClientAction[]): number | undefined {
  const t = actions.filter((a) => a.type === 'setTimer').at(-1);
  return t && t.type === 'setTimer' ? t.at : undefined;
}

export function types(actions: ClientAction[]): string[] {
  return actions.filter((a) => a.type !== 'log').map((a) => a.type);
}

/** A tiny driver: keeps the state and the fake clock. */
export class Driver {
  state: ClientState;
  now: number;
  last: ClientAction[] = [];

  constructor(cfg: ClientConfig = config(), now = T0) {
    this.state = initialState(cfg);
    this.now = now;
  }

  on(ev: ClientEvent): ClientAction[] {
    const r = step(this.state, ev, this.now);
    this.state = r.state;
    this.last = r.actions;
    return r.actions;
  }

  /** Advances the fake clock to the pending timer and fires it. */
  fire(): ClientAction[] {
    const at = this.state.timerAt;
    if (at === undefined) throw new Error(`no timer pending in ${this.state.phase}`);
    this.now = at;
    return this.on({ type: 'timer' });
  }

  packet(msg: DhcpMessage, from = SERVER): ClientAction[] {
    return this.on({ type: 'packet', msg, from });
  }

  /** Walks to BOUND through DISCOVER/OFFER/REQUEST/ACK. */
  bind(lease = 3600, extra: Partial<ReplyOpts> = {}): ClientAction[] {
    this.on({ type: 'start' });
    this.packet(reply(MessageType.OFFER, { xid: this.state.xid, lease, ...extra }));
    return this.packet(reply(MessageType.ACK, { xid: this.state.xid, lease, ...extra }));
  }
}
