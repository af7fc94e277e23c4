/**
 * A rogue DHCP "server" for the lab's bad-input cases: broadcasts OFFERs and ACKs for the
 * client's MAC but with a foreign xid, from UDP port 6767 (dhcpd owns 67), every `--every`
 * ms for `--seconds` s. Run it inside the server namespace:
 *   ip netns exec NS node scripts/lab/dhcp-rogue.ts --mac aa:bb:cc:dd:ee:ff --yiaddr 198.18.16.250 --server 198.18.16.9
 * A correct client never binds to the rogue's address. The namespace needs a route for
 * 255.255.255.255 (`ip route replace 255.255.255.255/32 dev br0`) when it has no default route.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { encodeMessage } from '../../agent/dhcp/codec.ts';
import { BOOTREPLY, MessageType, Opt, newMessage, type DhcpMessage } from '../../agent/dhcp/message.ts';
import { parseIpv4, parseMac } from '../../agent/util/bytes.ts';

const { values } = parseArgs({
  options: {
    mac: { type: 'string' },
    yiaddr: { type: 'string', default: '198.18.16.250' },
    server: { type: 'string', default: '198.18.16.9' },
    every: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
  },
});
if (!values.mac) throw new Error('--mac required');
const mac = parseMac(values.mac);

function forged(type: number, xid: number): DhcpMessage {
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

const sock = createSocket('udp4');
sock.bind(6767, () => {
  sock.setBroadcast(true);
  process.stdout.write('ready\n');
  let n = 0;
  const timer = setInterval(() => {
    const xid = (Math.random() * 0x100000000) >>> 0;
    const type = n++ % 2 === 0 ? MessageType.OFFER : MessageType.ACK;
    sock.send(encodeMessage(forged(type, xid)), 68, '255.255.255.255');
  }, Number(values.every));
  setTimeout(() => {
    clearInterval(timer);
    sock.close();
    process.stdout.write(`sent ${n}\n`);
  }, Number(values.seconds) * 1000);
});
