/**
 * Lab peer: a lossy UDP relay in front of a TFTP server (the kernel here has no netem and
 * no iptables). It keeps TFTP's transfer IDs apart: one upstream socket per client, one
 * downstream socket per server TID, so a server session forked for a retransmitted RRQ
 * stays a distinct TID for the client. Every datagram, both ways, is dropped with
 * probability LOSS, sent twice with probability DUP, and delayed 0-2 ms (so it may be
 * reordered); the random source is seeded (SEED) for reproducible runs.
 *
 *   node scripts/lab/tftp-lossy-relay.ts LISTEN_ADDR LISTEN_PORT SERVER_ADDR SERVER_PORT LOSS DUP SEED
 *
 * Prints "listening" once bound and, on SIGTERM, one JSON line of counters.
 */
import dgram, { type Socket } from 'node:dgram';
import { mulberry32 } from '../../agent/util/prng.ts';

const [listenAddr = '', listenPort = '', serverAddr = '', serverPort = '', lossArg = '0', dupArg = '0', seedArg = '1'] = process.argv.slice(2);
if (!listenAddr || !listenPort || !serverAddr || !serverPort) {
  process.stderr.write('usage: tftp-lossy-relay.ts LISTEN_ADDR LISTEN_PORT SERVER_ADDR SERVER_PORT LOSS DUP SEED\n');
  process.exit(2);
}
const LOSS = Number(lossArg);
const DUP = Number(dupArg);

const rand = mulberry32(Number(seedArg));

const stats = { forwarded: 0, dropped: 0, duplicated: 0 };

function lossySend(sock: Socket, msg: Buffer, port: number, address: string): void {
  if (rand() < LOSS) {
    stats.dropped++;
    return;
  }
  const copies = rand() < DUP ? 2 : 1;
  if (copies === 2) stats.duplicated++;
  for (let i = 0; i < copies; i++) {
    stats.forwarded++;
    setTimeout(() => sock.send(msg, port, address), Math.floor(rand() * 3));
  }
}

function bound(): Promise<Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, listenAddr, () => resolve(s)));
}

interface Session {
  client: { address: string; port: number };
  up: Socket;
  /** server TID -> the socket the client sees as that TID */
  down: Map<number, Promise<Socket>>;
}

const sessions = new Map<string, Promise<Session>>();

async function open(address: string, port: number): Promise<Session> {
  const up = await bound();
  const s: Session = { client: { address, port }, up, down: new Map() };
  up.on('message', async (msg, r) => {
    let d = s.down.get(r.port);
    if (!d) {
      d = bound().then((sock) => {
        sock.on('message', (m, c) => {
          if (c.address === s.client.address && c.port === s.client.port) lossySend(up, m, r.port, serverAddr);
        });
        return sock;
      });
      s.down.set(r.port, d);
    }
    lossySend(await d, msg, s.client.port, s.client.address);
  });
  return s;
}

const front = dgram.createSocket('udp4');
front.on('message', async (msg, r) => {
  const key = `${r.address}:${r.port}`;
  let p = sessions.get(key);
  if (!p) {
    p = open(r.address, r.port);
    sessions.set(key, p);
  }
  const s = await p;
  lossySend(s.up, msg, Number(serverPort), serverAddr);
});
front.bind(Number(listenPort), listenAddr, () => process.stdout.write('listening\n'));

process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  process.exit(0);
});
