/**
 * The UDP shell on loopback with high ports (no root needed): encode on send, decode on
 * receive, malformed datagrams reported (never thrown), a busy port is a typed error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { UdpDhcpSocket } from '../../agent/dhcp/udp.ts';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { MessageType, type DhcpMessage } from '../../agent/dhcp/message.ts';
import { isAgentError, type AgentError } from '../../agent/errors.ts';
import { buildDiscover } from '../../agent/dhcp/client-messages.ts';
import { config, reply } from './client-helpers.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function peer(): Promise<{ sock: Socket; port: number; got: Promise<{ msg: Buffer; port: number }> }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise((r) => sock.close(() => r())));
  const got = new Promise<{ msg: Buffer; port: number }>((r) => sock.once('message', (msg, rinfo) => r({ msg, port: rinfo.port })));
  return { sock, port: sock.address().port, got };
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('UdpDhcpSocket', () => {
  it('sends encoded messages and delivers decoded replies with their source', async () => {
    const server = await peer();
    const clientPort = await freePort();
    const received: Array<{ msg: DhcpMessage; from: string }> = [];
    const malformed: AgentError[] = [];
    const sock = await UdpDhcpSocket.open(
      { onMessage: (msg, from) => received.push({ msg, from }), onMalformed: (e) => malformed.push(e), onError: () => undefined },
      { clientPort, serverPort: server.port, bindAddress: '127.0.0.1' },
    );
    cleanup.push(() => sock.close());
    const discover = buildDiscover(config(), 0x1234, 0);
    await sock.send(discover, '127.0.0.1');
    const { msg } = await server.got;
    expect(decodeMessage(new Uint8Array(msg))).toEqual(decodeMessage(encodeMessage(discover)));

    server.sock.send(encodeMessage(reply(MessageType.OFFER, { xid: 0x1234 })), clientPort, '127.0.0.1');
    server.sock.send(Buffer.from('not dhcp'), clientPort, '127.0.0.1');
    await vi.waitFor(() => expect(received.length + malformed.length).toBe(2), { timeout: 10_000 });
    expect(received).toHaveLength(1);
    expect(received[0]?.msg.xid).toBe(0x1234);
    expect(received[0]?.from).toBe('127.0.0.1');
    expect(malformed).toHaveLength(1);
    expect(malformed[0]?.code).toMatch(/^DHCP_/);
  });

  it('a port already in use is DHCP_SOCKET_BUSY; sending after close is DHCP_SOCKET_CLOSED', async () => {
    const port = await freePort();
    const h = { onMessage: () => undefined, onMalformed: () => undefined, onError: () => undefined };
    const a = await UdpDhcpSocket.open(h, { clientPort: port, bindAddress: '127.0.0.1' });
    await expect(UdpDhcpSocket.open(h, { clientPort: port, bindAddress: '127.0.0.1' })).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_SOCKET_BUSY'));
    await a.close();
    await expect(a.send(buildDiscover(config(), 1, 0), '127.0.0.1')).rejects.toSatisfy((e: unknown) => isAgentError(e, 'DHCP_SOCKET_CLOSED'));
  });
});
