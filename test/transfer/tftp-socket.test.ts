/**
 * The dgram shell against a scripted TFTP peer on 127.0.0.1: backpressure (no ACK before
 * the sink accepted the block), TID checks on a real socket, duplicate DATA, sink and
 * size refusals reaching the server as ERROR packets, input validation, progress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createTftpFetcher, fetchTftp } from '../../agent/transfer/tftp-socket.ts';
import { decodePacket, encodePacket, type TftpPacket } from '../../agent/transfer/tftp-packets.ts';
import { AgentError } from '../../agent/errors.ts';
import type { TransferProgress } from '../../agent/transfer/types.ts';

const LO = '127.0.0.1';

interface Got {
  packet: TftpPacket;
  port: number;
}

/** One UDP socket of the scripted server, with an awaitable inbox. */
class Endpoint {
  readonly sock = dgram.createSocket('udp4');
  private inbox: Got[] = [];
  private waiters: Array<(g: Got) => void> = [];
  readonly all: Got[] = [];
  constructor() {
    this.sock.on('message', (m, r) => {
      const g = { packet: decodePacket(m), port: r.port };
      this.all.push(g);
      const w = this.waiters.shift();
      if (w) w(g);
      else this.inbox.push(g);
    });
  }
  async bind(): Promise<number> {
    this.sock.bind(0, LO);
    await once(this.sock, 'listening');
    return this.sock.address().port;
  }
  next(): Promise<Got> {
    const g = this.inbox.shift();
    return g ? Promise.resolve(g) : new Promise((r) => this.waiters.push(r));
  }
  send(p: TftpPacket, port: number): void {
    this.sock.send(encodePacket(p), port, LO);
  }
  close(): void {
    this.sock.close();
  }
}

const open: Endpoint[] = [];
async function endpoint(): Promise<[Endpoint, number]> {
  const e = new Endpoint();
  open.push(e);
  return [e, await e.bind()];
}
afterEach(() => {
  for (const e of open.splice(0)) e.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const block = (n: number, len: number): TftpPacket => ({ op: 'data', block: n, data: new Uint8Array(len).fill(n) });

/** Listener gets the RRQ; the session socket (the TID) answers with an OACK and gets ACK 0. */
async function handshake(listen: Endpoint, session: Endpoint, oack: Array<[string, string]>): Promise<number> {
  const rrq = await listen.next();
  expect(rrq.packet.op).toBe('rrq');
  session.send({ op: 'oack', options: oack }, rrq.port);
  const a0 = await session.next();
  expect(a0.packet).toEqual({ op: 'ack', block: 0 });
  return rrq.port;
}

describe('TFTP shell on a real socket (scripted peer on 127.0.0.1)', () => {
  it('does not ACK a block before the sink accepted it (backpressure)', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const log: string[] = [];
    let release: () => void = () => {};
    const sink = {
      write(c: Uint8Array): Promise<void> {
        log.push(`write ${c.length}`);
        return new Promise((r) => (release = r));
      },
    };
    const done = fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, sink);
    const client = await handshake(listen, session, [['blksize', '512'], ['tsize', '600']]);
    // Log every packet the moment it arrives, interleaved with the sink's events.
    session.sock.on('message', (m: Buffer) => log.push(`${m.readUInt16BE(0) === 4 ? 'ack' : 'op'} ${m.readUInt16BE(2)}`));
    session.send(block(1, 512), client);
    while (log.length === 0) await sleep(5);
    await sleep(100); // a premature ACK would arrive here
    log.push('release');
    release();
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 1 });
    session.send(block(2, 88), client);
    while (log.length < 4) await sleep(5);
    await sleep(100);
    log.push('release');
    release();
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 2 });
    expect(await done).toMatchObject({ bytes: 600, total: 600 });
    expect(log).toEqual(['write 512', 'release', 'ack 1', 'write 88', 'release', 'ack 2']);
  });

  it('answers DATA from a foreign port with ERROR 5 and carries on with the real TID', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const [intruder] = await endpoint();
    const chunks: number[] = [];
    const done = fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: (c) => void chunks.push(c.length) });
    const client = await handshake(listen, session, [['blksize', '512']]);
    intruder.send(block(1, 512), client);
    expect((await intruder.next()).packet).toEqual({ op: 'error', code: 5, message: 'Unknown transfer ID' });
    session.send(block(1, 100), client);
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 1 });
    expect(await done).toMatchObject({ bytes: 100 });
    expect(chunks).toEqual([100]);
  });

  it('duplicate DATA gets no extra ACK (no Sorcerer\'s Apprentice)', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const done = fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => {} });
    const client = await handshake(listen, session, [['blksize', '512']]);
    for (let i = 0; i < 4; i++) session.send(block(1, 512), client);
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 1 });
    await sleep(300); // ACKs for the 3 duplicates would arrive here
    session.send(block(2, 1), client);
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 2 });
    await done;
    expect(session.all.map((g) => g.packet)).toEqual([
      { op: 'ack', block: 0 },
      { op: 'ack', block: 1 },
      { op: 'ack', block: 2 },
    ]);
  });

  it('a lost ACK is re-sent when our timer expires', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const done = createTftpFetcher({ timeout: 1, retries: 3 })({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => {} });
    const client = await handshake(listen, session, [['blksize', '512']]);
    session.send(block(1, 512), client);
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 1 }); // "lost": not answered
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 1 }); // the timer's retransmission
    session.send(block(2, 0), client);
    expect((await session.next()).packet).toEqual({ op: 'ack', block: 2 });
    expect(await done).toMatchObject({ bytes: 512 });
  });

  it('a sink failure sends ERROR 0 to the server and rejects with TFTP_SINK_FAILED', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const sink = {
      write(): Promise<void> {
        return Promise.reject(new Error('EIO: flash write failed'));
      },
    };
    const done = fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, sink);
    const client = await handshake(listen, session, [['blksize', '512']]);
    session.send(block(1, 512), client);
    await expect(done).rejects.toMatchObject({ code: 'TFTP_SINK_FAILED', message: expect.stringContaining('flash write failed') });
    expect((await session.next()).packet).toEqual({ op: 'error', code: 0, message: 'Local write failed' });
  });

  it('an onSize refusal is the rejection, with ERROR 3 to the server and no write', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    let writes = 0;
    const refusal = new AgentError('SLOT_TOO_SMALL', 'too big');
    const done = fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => void writes++ }, {
      onSize: (n) => {
        if (n > 1000) throw refusal;
      },
    });
    const rrq = await listen.next();
    session.send({ op: 'oack', options: [['tsize', '5000']] }, rrq.port);
    await expect(done).rejects.toBe(refusal);
    expect((await session.next()).packet).toEqual({ op: 'error', code: 3, message: 'Disk full or allocation exceeded' });
    expect(writes).toBe(0);
  });

  it('reports progress with the total, ending at the full size', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const seen: TransferProgress[] = [];
    const done = createTftpFetcher({ progressIntervalMs: 0 })({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => {} }, { onProgress: (p) => seen.push(p) });
    const client = await handshake(listen, session, [['blksize', '512'], ['tsize', '1100']]);
    for (const [n, len] of [
      [1, 512],
      [2, 512],
      [3, 76],
    ] as const) {
      session.send(block(n, len), client);
      await session.next();
    }
    await done;
    expect(seen.at(-1)).toMatchObject({ bytes: 1100, total: 1100 });
    expect(seen.map((p) => p.bytes)).toEqual([...seen.map((p) => p.bytes)].sort((a, b) => a - b));
  });

  it('a throwing onProgress does not break the download', async () => {
    const [listen, port] = await endpoint();
    const [session] = await endpoint();
    const done = createTftpFetcher({ progressIntervalMs: 0 })({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => {} }, {
      onProgress: () => {
        throw new Error('display gone');
      },
    });
    const client = await handshake(listen, session, [['blksize', '512']]);
    session.send(block(1, 512), client);
    await session.next();
    session.send(block(2, 3), client);
    await session.next();
    expect(await done).toMatchObject({ bytes: 515 });
  });

  const BAD: Array<[string, Parameters<typeof fetchTftp>[0]]> = [
    ['an FTP request', { protocol: 'ftp', server: LO, file: 'f' }],
    ['a host name', { protocol: 'tftp', server: 'tftp.example.net', file: 'f' }],
    ['an empty file name', { protocol: 'tftp', server: LO, file: '' }],
    ['port 70000', { protocol: 'tftp', server: LO, port: 70000, file: 'f' }],
  ];
  for (const [name, req] of BAD) {
    it(`rejects ${name} with TFTP_BAD_REQUEST before sending anything`, async () => {
      await expect(fetchTftp(req, { write: () => {} })).rejects.toMatchObject({ code: 'TFTP_BAD_REQUEST' });
    });
  }

  it('rejects a bad blksize option of the fetcher', async () => {
    await expect(createTftpFetcher({ blksize: 4 })({ protocol: 'tftp', server: LO, file: 'f' }, { write: () => {} })).rejects.toMatchObject({ code: 'TFTP_BAD_REQUEST' });
  });

  it('an already-aborted signal fails with TFTP_ABORTED and sends nothing', async () => {
    const [listen, port] = await endpoint();
    const ac = new AbortController();
    ac.abort();
    await expect(fetchTftp({ protocol: 'tftp', server: LO, port, file: 'f' }, { write: () => {} }, { signal: ac.signal })).rejects.toMatchObject({ code: 'TFTP_ABORTED' });
    await sleep(50);
    expect(listen.all).toEqual([]);
  });
});
