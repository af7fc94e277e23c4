/**
 * The runner (state machine + transport + clock + net backend + lease memory) against an
 * in-process fake server speaking through the real codec, with the dry-run net backend.
 * Timer-driven paths use vitest's fake clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DhcpRunner, type DhcpRunnerOptions } from '../../agent/dhcp/runner.ts';
import type { DhcpSocketHandlers, DhcpTransport } from '../../agent/dhcp/udp.ts';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { MessageType, Opt, type DhcpMessage } from '../../agent/dhcp/message.ts';
import type { Lease } from '../../agent/dhcp/lease.ts';
import { DryRunNet } from '../../platform/net/dry-run.ts';
import { createLogger, silentLogger } from '../../agent/log.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import { ipv4ToString } from '../../agent/util/bytes.ts';
import { SERVER, reply } from './client-helpers.ts';

const MAC = '02:00:5e:10:20:30';

function typeOf(m: DhcpMessage): number | undefined {
  return m.options.find((o) => o.code === Opt.MESSAGE_TYPE)?.data[0];
}
function ipOpt(m: DhcpMessage, code: number): string | undefined {
  const d = m.options.find((o) => o.code === code)?.data;
  return d ? ipv4ToString(d) : undefined;
}

/** A DHCP server in the test process; every reply goes through encode → decode. */
class FakeServer {
  readonly sent: Array<{ type: number | undefined; msg: DhcpMessage; to: string }> = [];
  readonly journal: string[];
  handlers: DhcpSocketHandlers | undefined;
  addresses = ['198.18.16.100'];
  lease = 3600;
  silent = false;
  nakRenew = false;
  foreignFirst = false;
  /** option 43 sent with every OFFER/ACK */
  option43: Uint8Array | undefined;
  private offers = 0;

  constructor(journal: string[]) {
    this.journal = journal;
  }

  transport = async (h: DhcpSocketHandlers): Promise<DhcpTransport> => {
    this.handlers = h;
    return {
      send: async (msg, to) => {
        const type = typeOf(msg);
        this.sent.push({ type, msg, to });
        this.journal.push(`send ${type} ${to}`);
        for (const r of this.answer(msg)) queueMicrotask(() => h.onMessage(decodeMessage(encodeMessage(r)), SERVER));
      },
      close: async () => undefined,
    };
  };

  private answer(m: DhcpMessage): DhcpMessage[] {
    if (this.silent) return [];
    const type = typeOf(m);
    const out: DhcpMessage[] = [];
    if (this.foreignFirst) {
      this.foreignFirst = false;
      out.push(reply(MessageType.OFFER, { xid: (m.xid + 1) >>> 0, yiaddr: '198.18.16.250', lease: this.lease }));
    }
    if (type === MessageType.DISCOVER) {
      const yiaddr = this.addresses[Math.min(this.offers++, this.addresses.length - 1)];
      out.push(reply(MessageType.OFFER, { xid: m.xid, yiaddr, lease: this.lease, extra: this.extra() }));
    } else if (type === MessageType.REQUEST) {
      const renewing = m.ciaddr !== '0.0.0.0';
      if (renewing && this.nakRenew) out.push(reply(MessageType.NAK, { xid: m.xid }));
      else out.push(reply(MessageType.ACK, { xid: m.xid, yiaddr: renewing ? m.ciaddr : ipOpt(m, Opt.REQUESTED_IP), lease: this.lease, extra: this.extra() }));
    }
    return out;
  }

  private extra(): Array<{ code: number; data: Uint8Array }> {
    return this.option43 ? [{ code: Opt.VENDOR_SPECIFIC, data: this.option43 }] : [];
  }
}

function setup(over: Partial<DhcpRunnerOptions> = {}): { runner: DhcpRunner; server: FakeServer; net: DryRunNet; journal: string[]; acks: Lease[]; lost: string[] } {
  const journal: string[] = [];
  const server = new FakeServer(journal);
  const net = new DryRunNet();
  const netProxy = new Proxy(net, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v === 'function' && typeof prop === 'string' && prop !== 'ops') {
        return (...args: unknown[]) => {
          journal.push(`net ${prop}`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return v;
    },
  });
  const acks: Lease[] = [];
  const lost: string[] = [];
  const runner = new DhcpRunner({
    iface: 'wan0',
    vendorClass: 'FS-0900E',
    net: netProxy,
    log: silentLogger(),
    mac: MAC,
    transport: server.transport,
    watchLink: false,
    random: () => 0.5,
    arpCheck: false,
    onAck: (l) => acks.push(l),
    onLost: (r) => lost.push(r),
    ...over,
  });
  return { runner, server, net, journal, acks, lost };
}

const dirs: string[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('DhcpRunner', () => {
  it('binds: broadcast route, DISCOVER/REQUEST, applyLease, onAck; remembers the lease', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpd-runner-'));
    dirs.push(dir);
    const { runner, server, net, acks } = setup({ stateDir: dir });
    await runner.start();
    const lease = await runner.waitForLease(5000);
    expect(lease).toMatchObject({ address: '198.18.16.100', serverId: SERVER, vendorClass: 'FS-0900E', iface: 'wan0' });
    expect(runner.lease?.address).toBe('198.18.16.100');
    expect(server.sent.map((s) => s.type)).toEqual([MessageType.DISCOVER, MessageType.REQUEST]);
    expect(net.ops()).toEqual(['addBroadcastRoute', 'applyLease']);
    expect(net.applied).toMatchObject({ iface: 'wan0', address: '198.18.16.100', prefixLength: 24, routers: [SERVER] });
    expect(acks).toHaveLength(1);
    const saved = JSON.parse(await readFile(join(dir, 'dhcp-lease-wan0.json'), 'utf8')) as { lease: Lease };
    expect(saved.lease.address).toBe('198.18.16.100');
    await runner.stop();
    expect(net.ops().at(-1)).toBe('removeBroadcastRoute');
    expect(net.applied?.address).toBe('198.18.16.100'); // stop keeps the lease

    // a restart INIT-REBOOTs the remembered address
    const second = setup({ stateDir: dir });
    await second.runner.start();
    await second.runner.waitForLease(5000);
    const first = second.server.sent[0];
    expect(first?.type).toBe(MessageType.REQUEST);
    expect(first ? ipOpt(first.msg, Opt.REQUESTED_IP) : '').toBe('198.18.16.100');
    expect(first ? ipOpt(first.msg, Opt.SERVER_ID) : 'x').toBeUndefined();
    await second.runner.stop();
  });

  it('release(): RELEASE leaves before the address is removed; memory cleared', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cpd-runner-'));
    dirs.push(dir);
    const { runner, journal, net } = setup({ stateDir: dir });
    await runner.start();
    await runner.waitForLease(5000);
    journal.length = 0;
    await runner.release();
    // the broadcast route is restored after every removal while running (the kernel flushes a
    // device's routes with its last address), and removed for good at the end
    expect(journal).toEqual([`send ${MessageType.RELEASE} ${SERVER}`, 'net removeLease', 'net addBroadcastRoute', 'net removeBroadcastRoute']);
    expect(net.applied).toBeUndefined();
    expect(runner.lease).toBeUndefined();
    await expect(readFile(join(dir, 'dhcp-lease-wan0.json'))).rejects.toThrow(/ENOENT/);
  });

  it('a reply with a foreign xid is counted and never acted on', async () => {
    const { runner, server } = setup();
    server.foreignFirst = true;
    await runner.start();
    const lease = await runner.waitForLease(5000);
    expect(lease.address).toBe('198.18.16.100');
    expect(runner.ignoredReplies).toBe(1);
    await runner.stop();
  });

  it('ARP conflict: DECLINE, then ≥ 10 s later a new DISCOVER and another address', async () => {
    vi.useFakeTimers();
    const { runner, server, net } = setup({ arpCheck: true, clock: () => Date.now() });
    server.addresses = ['198.18.16.100', '198.18.16.101'];
    net.inUse.add('198.18.16.100');
    await runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.sent.map((s) => s.type)).toEqual([MessageType.DISCOVER, MessageType.REQUEST, MessageType.DECLINE]);
    await vi.advanceTimersByTimeAsync(9_900);
    expect(server.sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(200);
    const lease = await runner.waitForLease(1000);
    expect(lease.address).toBe('198.18.16.101');
    expect(net.calls.filter((c) => c.op === 'addressInUse').map((c) => (c.op === 'addressInUse' ? c.address : ''))).toEqual(['198.18.16.100', '198.18.16.101']);
    await runner.stop();
  });

  it('applyLease failure: no onAck, INIT, retried after the pause', async () => {
    vi.useFakeTimers();
    const { runner, net, acks } = setup({ clock: () => Date.now() });
    net.failApply = 'NET_CMD_FAILED';
    await runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(acks).toHaveLength(0);
    expect(runner.phase).toBe('INIT');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(acks).toHaveLength(1);
    expect(runner.phase).toBe('BOUND');
    await runner.stop();
  });

  it('renews at T1 (unicast, onAck again); NAK while renewing → removeLease, onLost', async () => {
    vi.useFakeTimers();
    const { runner, server, net, acks, lost } = setup({ clock: () => Date.now() });
    server.lease = 600;
    await runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(acks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(299_000);
    expect(server.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.sent.at(-1)).toMatchObject({ type: MessageType.REQUEST, to: SERVER, msg: { ciaddr: '198.18.16.100' } });
    expect(acks).toHaveLength(2);
    server.nakRenew = true;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(lost).toHaveLength(1);
    expect(net.ops().slice(-2)).toEqual(['removeLease', 'addBroadcastRoute']);
    expect(runner.lease).toBeUndefined();
    await runner.stop();
  });

  it('unknown option 43 flag bits are logged once per offer, not on every renewal', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'info', destination: { write: (s: string) => lines.push(s) } });
    const { runner, server, acks } = setup({ clock: () => Date.now(), log });
    server.lease = 600;
    server.option43 = Uint8Array.from([1, 1, 0, 9, 2, 0x80, 0x03]); // tftp, flags 0x8003: bit 0 urgent + bits 1, 15
    await runner.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(300_000); // renewal at T1
    await vi.advanceTimersByTimeAsync(300_000); // and again
    expect(acks.length).toBeGreaterThanOrEqual(3);
    expect(acks[0]?.option43).toMatchObject({ flags: 0x8003, urgent: true });
    const flagLines = lines.filter((l) => l.includes('"offer.flags"'));
    expect(flagLines).toHaveLength(1);
    expect(flagLines[0]).toContain('"unknownBits":"0x8002"');
    server.option43 = Uint8Array.from([1, 1, 0, 9, 2, 0x00, 0x05]); // a new offer with other unknown bits: said again
    await vi.advanceTimersByTimeAsync(300_000);
    expect(lines.filter((l) => l.includes('"offer.flags"'))).toHaveLength(2);
    server.option43 = Uint8Array.from([1, 1, 0, 9, 2, 0x00, 0x01]); // only known bits: nothing
    await vi.advanceTimersByTimeAsync(300_000);
    expect(lines.filter((l) => l.includes('"offer.flags"'))).toHaveLength(2);
    await runner.stop();
  });

  it('waitForLease times out with DHCP_TIMEOUT when nobody answers', async () => {
    vi.useFakeTimers();
    const { runner, server } = setup({ clock: () => Date.now() });
    server.silent = true;
    await runner.start();
    const p = runner.waitForLease(30_000);
    const check = expect(p).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_TIMEOUT'));
    await vi.advanceTimersByTimeAsync(30_000);
    await check;
    // retransmissions happened meanwhile: 0, ~4, ~12, ~28 s
    expect(server.sent.length).toBe(4);
    await runner.stop();
  });

  it('stop() before a lease rejects pending waiters with DHCP_STOPPED', async () => {
    const { runner, server } = setup();
    server.silent = true;
    await runner.start();
    const p = runner.waitForLease(60_000);
    await runner.stop();
    await expect(p).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_STOPPED'));
  });

  it('a bad vendor class is refused before anything is touched', async () => {
    for (const vc of ['', 'x'.repeat(256), 'FS\n0900E']) {
      const { runner, net } = setup({ vendorClass: vc });
      await expect(runner.start()).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_VENDOR_CLASS_INVALID'));
      expect(net.calls).toEqual([]);
    }
  });

  it('broadcast route and socket are set up side by side; a failure of either leaves neither behind', async () => {
    // the route fails: the socket that opened meanwhile is closed, the route error is thrown
    const closed: string[] = [];
    const failingRoute = setup({
      transport: async () => ({ send: async () => undefined, close: async () => void closed.push('socket') }),
    });
    failingRoute.net.addBroadcastRoute = async () => {
      throw new AgentError('NET_COMMAND_FAILED', 'ip route replace failed');
    };
    await expect(failingRoute.runner.start()).rejects.toSatisfy((e: unknown) => isAgentError(e, 'NET_COMMAND_FAILED'));
    expect(closed).toEqual(['socket']);
    // the socket fails: the route added meanwhile is removed, the socket error is thrown
    const failingSocket = setup({
      transport: async () => {
        throw new AgentError('DHCP_SOCKET', 'port 68 in use');
      },
    });
    await expect(failingSocket.runner.start()).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_SOCKET'));
    expect(failingSocket.net.ops()).toEqual(['addBroadcastRoute', 'removeBroadcastRoute']);
  });

  it('a missing interface is a typed error, not a crash', async () => {
    const { runner } = setup({ mac: undefined, iface: 'nosuch0' });
    await expect(runner.start()).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_IFACE_MISSING'));
  });
});
