/**
 * The UDP shell: one dgram socket on 0.0.0.0:68 with SO_BROADCAST. Sends encoded
 * DhcpMessages to 255.255.255.255:67 or unicast to a server; delivers decoded replies.
 *
 * Linux refuses a broadcast from an interface without an address (ENETUNREACH) unless a host
 * route `255.255.255.255/32 dev IF` exists: the runner asks the network backend for it, which
 * also pins broadcasts to the WAN interface. Node's dgram has no SO_BINDTODEVICE, so replies
 * arriving on another interface are filtered by xid/chaddr in the state machine.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { DhcpMessage } from './message.ts';
import { decodeMessage, encodeMessage } from './codec.ts';
import { AgentError, asAgentError } from '../errors.ts';

export const CLIENT_PORT = 68;
export const SERVER_PORT = 67;

export interface DhcpSocketHandlers {
  onMessage(msg: DhcpMessage, from: string): void;
  /** a datagram that did not decode (counted and logged by the caller, never fatal) */
  onMalformed(error: AgentError, from: string): void;
  onError(error: AgentError): void;
}

export interface DhcpTransport {
  send(msg: DhcpMessage, to: 'broadcast' | string): Promise<void>;
  close(): Promise<void>;
}

export interface UdpOptions {
  clientPort?: number;
  serverPort?: number;
  bindAddress?: string;
}

export class UdpDhcpSocket implements DhcpTransport {
  private readonly sock: Socket;
  private readonly serverPort: number;
  private closed = false;

  private constructor(sock: Socket, serverPort: number) {
    this.sock = sock;
    this.serverPort = serverPort;
  }

  static async open(handlers: DhcpSocketHandlers, opts: UdpOptions = {}): Promise<UdpDhcpSocket> {
    const port = opts.clientPort ?? CLIENT_PORT;
    const sock = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => {
        const code = (e as { code?: unknown }).code;
        reject(
          code === 'EADDRINUSE'
            ? new AgentError('DHCP_SOCKET_BUSY', `UDP port ${port} is in use (another DHCP client running?)`, { port })
            : asAgentError(e, 'DHCP_SOCKET_FAILED', `binding UDP port ${port}`),
        );
      };
      sock.once('error', onErr);
      sock.bind({ port, address: opts.bindAddress ?? '0.0.0.0', exclusive: true }, () => {
        sock.off('error', onErr);
        resolve();
      });
    });
    sock.setBroadcast(true);
    sock.on('message', (buf, rinfo) => {
      let msg: DhcpMessage;
      try {
        msg = decodeMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      } catch (e) {
        handlers.onMalformed(asAgentError(e, 'DHCP_MALFORMED', 'decoding a reply'), rinfo.address);
        return;
      }
      handlers.onMessage(msg, rinfo.address);
    });
    sock.on('error', (e) => handlers.onError(asAgentError(e, 'DHCP_SOCKET_FAILED', 'DHCP socket')));
    return new UdpDhcpSocket(sock, opts.serverPort ?? SERVER_PORT);
  }

  send(msg: DhcpMessage, to: 'broadcast' | string): Promise<void> {
    if (this.closed) return Promise.reject(new AgentError('DHCP_SOCKET_CLOSED', 'socket closed'));
    const bytes = encodeMessage(msg);
    const addr = to === 'broadcast' ? '255.255.255.255' : to;
    return new Promise((resolve, reject) => {
      this.sock.send(bytes, this.serverPort, addr, (err) => {
        if (err) reject(asAgentError(err, 'DHCP_SEND_FAILED', `sending to ${addr}:${this.serverPort}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}
