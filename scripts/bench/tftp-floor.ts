/**
 * The floor of a lockstep TFTP download in Node on this machine: the least a Node client can
 * do per block (one `dgram` receive, one 4-byte ACK send; no hashing, no checks beyond the
 * block number, no retransmission). It is NOT a client (a lost packet ends it with an error);
 * tftp.bench.ts runs it beside ours and curl to show what part of a gap to curl is Node's own
 * per-datagram cost. Prints one JSON line: {"ok":true,"bytes":…,"elapsedMs":…}.
 *
 *   node scripts/bench/tftp-floor.ts SERVER FILE BLKSIZE [PORT]
 */
import dgram from 'node:dgram';

const [server = '', file = '', blk = '1468', portArg = '69'] = process.argv.slice(2);
const blksize = Number(blk);
const sock = dgram.createSocket({ type: 'udp4', lookup: (host, _o, cb) => cb(null, host, 4) });
const started = performance.now();
let bytes = 0;
let expected = 1;
const give = (why: string): void => {
  process.stdout.write(`${JSON.stringify({ ok: false, why, bytes })}\n`);
  process.exit(1);
};
let idle: NodeJS.Timeout | undefined;

sock.on('message', (m, r) => {
  const op = m.readUInt16BE(0);
  const ack = Buffer.allocUnsafe(4);
  ack.writeUInt16BE(4, 0);
  if (op === 6) {
    ack.writeUInt16BE(0, 2); // OACK: ACK 0 starts the data
    sock.send(ack, r.port, r.address);
    return;
  }
  if (op !== 3) give(`opcode ${op}: ${m.subarray(4).toString('latin1').slice(0, 80)}`);
  const block = m.readUInt16BE(2);
  if (block === (expected & 0xffff)) {
    bytes += m.length - 4;
    expected++;
  }
  ack.writeUInt16BE(block, 2);
  sock.send(ack, r.port, r.address);
  if (m.length - 4 < blksize) {
    clearTimeout(idle);
    process.stdout.write(`${JSON.stringify({ ok: true, bytes, elapsedMs: Math.round(performance.now() - started) })}\n`);
    sock.close();
  } else {
    idle?.refresh();
  }
});

sock.bind(0, () => {
  const rrq = Buffer.concat([Buffer.of(0, 1), Buffer.from([file, 'octet', 'blksize', String(blksize), 'tsize', '0'].map((f) => `${f}\0`).join(''), 'latin1')]);
  sock.send(rrq, Number(portArg), server);
  idle = setTimeout(() => give('no answer'), 5000);
});
