/**
 * A rogue DHCP "server" for the lab's bad-input cases, two modes. Run it inside a namespace:
 *
 * Flood (default): broadcasts OFFERs and ACKs for the client's MAC but with a foreign xid, from
 * UDP port 6767 (dhcpd owns 67), every `--every` ms for `--seconds` s:
 *   ip netns exec NS node scripts/lab/dhcp-rogue.ts --mac aa:bb:cc:dd:ee:ff --yiaddr 198.18.16.250 --server 198.18.16.9
 * A correct client never binds to the rogue's address.
 *
 * Serve (`--serve`): a rogue that answers like a server (port 67, the client's xid: run it where
 * no dhcpd listens) and hands out option 43 `--opt43 HEX` (e.g. an image of the attacker's
 * choice with its matching MD5); prints `offer`/`ack` lines. DHCP can say where and when; the
 * signature check must refuse what runs.
 *   ip netns exec NS node scripts/lab/dhcp-rogue.ts --serve --yiaddr 198.18.104.250 --server 198.18.104.1 --opt43 0101…
 *
 * The namespace needs a route for 255.255.255.255 (`ip route replace 255.255.255.255/32 dev br0`)
 * when it has no default route.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { decodeMessage, encodeMessage } from '../../agent/dhcp/codec.ts';
import { getOption } from '../../agent/dhcp/options.ts';
import { BOOTREPLY, MessageType, Opt, newMessage, type DhcpMessage } from '../../agent/dhcp/message.ts';
import { fromHex, parseIpv4, parseMac } from '../../agent/util/bytes.ts';

const { values } = parseArgs({
  options: {
    mac: { type: 'string' },
    yiaddr: { type: 'string', default: '198.18.16.250' },
    server: { type: 'string', default: '198.18.16.9' },
    every: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    serve: { type: 'boolean', default: false },
    opt43: { type: 'string' },
  },
});
if (values.serve) {
  serve();
} else {
  flood();
}

function forged(mac: Uint8Array, type: number, xid: number): DhcpMessage {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac);
  return newMessage({
    op: BOOTREPLY,
    xid,
    flags: 0x8000,
    yiaddr: values.yiaddr,
    chaddr,
    options: [
      { code: Opt.MESSAGE_TYPE, data: Uint8Array.from([type]) },
      { code: Opt.SERVER_ID, data: parseIpv4(values.server) },
      { code: Opt.LEASE_TIME, data: Uint8Array.from([0, 0, 0x0e, 0x10]) },
      { code: Opt.SUBNET_MASK, data: parseIpv4('255.255.255.0') },
      { code: Opt.ROUTER, data: parseIpv4(values.server) },
    ],
  });
}

function flood(): void {
  if (!values.mac) throw new Error('--mac required');
  const mac = parseMac(values.mac);
  const sock = createSocket('udp4');
  sock.bind(6767, () => {
    sock.setBroadcast(true);
    process.stdout.write('ready\n');
    let n = 0;
    const timer = setInterval(() => {
      const xid = (Math.random() * 0x100000000) >>> 0;
      const type = n++ % 2 === 0 ? MessageType.OFFER : MessageType.ACK;
      sock.send(encodeMessage(forged(mac, type, xid)), 68, '255.255.255.255');
    }, Number(values.every));
    setTimeout(() => {
      clearInterval(timer);
      sock.close();
      process.stdout.write(`sent ${n}\n`);
    }, Number(values.seconds) * 1000);
  });
}

/** Answers DISCOVER with OFFER and REQUEST with ACK (the client's xid), option 43 from --opt43. */
function serve(): void {
  const opt43 = values.opt43 ? fromHex(values.opt43) : undefined;
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  sock.on('message', (buf) => {
    let req: DhcpMessage;
    try {
      req = decodeMessage(buf);
    } catch {
      return;
    }
    const t = getOption(req, Opt.MESSAGE_TYPE)?.[0];
    if (req.op !== 1 || (t !== MessageType.DISCOVER && t !== MessageType.REQUEST)) return;
    const type = t === MessageType.DISCOVER ? MessageType.OFFER : MessageType.ACK;
    const reply = forged(req.chaddr.subarray(0, 6), type, req.xid);
    if (opt43) reply.options.push({ code: Opt.VENDOR_SPECIFIC, data: opt43 });
    sock.send(encodeMessage(reply), 68, '255.255.255.255');
    process.stdout.write(`${type === MessageType.OFFER ? 'offer' : 'ack'} ${values.yiaddr} xid=0x${req.xid.toString(16)}\n`);
  });
  sock.bind(67, () => {
    sock.setBroadcast(true);
    process.stdout.write('ready\n');
  });
  setTimeout(() => sock.close(), Number(values.seconds) * 1000);
}
