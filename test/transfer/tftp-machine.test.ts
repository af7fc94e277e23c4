import { describe, expect, it } from 'vitest';
import { initialState, step, type TftpAction, type TftpEvent, type TftpState } from '../../agent/transfer/tftp-machine.ts';
import { makeConfig, type TftpConfig } from '../../agent/transfer/tftp-options.ts';
import { encodePacket, type TftpPacket } from '../../agent/transfer/tftp-packets.ts';
import { AgentError } from '../../agent/errors.ts';

const SERVER = '198.18.32.1';
const TID = 40000;

/** Drives the machine with a fake clock; records every action. */
class Driver {
  state: TftpState;
  now = 0;
  log: TftpAction[] = [];
  constructor(cfg: Partial<TftpConfig> = {}) {
    this.state = initialState(makeConfig({ server: SERVER, file: 'fw.bin', ...cfg }));
  }
  feed(e: TftpEvent): TftpAction[] {
    const r = step(this.state, e);
    this.state = r.state;
    this.log.push(...r.actions);
    return r.actions;
  }
  start(): TftpAction[] {
    return this.feed({ type: 'start', now: this.now });
  }
  packet(p: TftpPacket, port = TID, address = SERVER): TftpAction[] {
    return this.feed({ type: 'packet', bytes: encodePacket(p), address, port, now: this.now });
  }
  data(block: number, len: number, port = TID): TftpAction[] {
    return this.packet({ op: 'data', block, data: new Uint8Array(len).fill(block & 0xff) }, port);
  }
  delivered(): TftpAction[] {
    return this.feed({ type: 'delivered', now: this.now });
  }
  /** DATA then, when the machine asks to deliver it, the sink's completion. */
  block(block: number, len: number): TftpAction[] {
    const a = this.data(block, len);
    return a.some((x) => x.type === 'deliver') ? [...a, ...this.delivered()] : a;
  }
  tick(at: number): TftpAction[] {
    this.now = at;
    return this.feed({ type: 'tick', now: at });
  }
  oack(options: Array<[string, string]>): TftpAction[] {
    return this.packet({ op: 'oack', options });
  }
}

const sends = (a: TftpAction[]): TftpPacket[] => a.flatMap((x) => (x.type === 'send' ? [x.packet] : []));
const types = (a: TftpAction[]): string[] => a.map((x) => (x.type === 'send' ? `send:${x.packet.op}` : x.type));
const failure = (a: TftpAction[]): AgentError | undefined => a.flatMap((x) => (x.type === 'fail' ? [x.error] : []))[0];
const acks = (a: TftpAction[]): number[] => sends(a).flatMap((p) => (p.op === 'ack' ? [p.block] : []));

describe('TFTP machine: request and OACK negotiation', () => {
  it('start sends the RRQ with options to port 69 and arms the timer', () => {
    const d = new Driver();
    const a = d.start();
    expect(a).toEqual([
      {
        type: 'send',
        address: SERVER,
        port: 69,
        packet: { op: 'rrq', file: 'fw.bin', mode: 'octet', options: [['blksize', '1468'], ['tsize', '0'], ['timeout', '1']] },
      },
    ]);
    expect(d.state.phase).toBe('requesting');
    expect(d.state.deadline).toBe(1000);
  });

  it('OACK: learns the TID, reports the size BEFORE ACK 0, ACKs block 0 to the TID', () => {
    const d = new Driver();
    d.start();
    const a = d.oack([['blksize', '1024'], ['tsize', '3000'], ['timeout', '1']]);
    expect(types(a)).toEqual(['log', 'size', 'send:ack']);
    expect(a[1]).toEqual({ type: 'size', total: 3000 });
    expect(a[2]).toMatchObject({ port: TID, packet: { op: 'ack', block: 0 } });
    expect(d.state).toMatchObject({ phase: 'transferring', tid: TID, blksize: 1024, windowsize: 1, total: 3000, expected: 1 });
  });

  it('a full transfer: each ACK only after the sink accepted the block; short block ends it', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '1024'], ['tsize', '2100']]);
    const got = d.data(1, 1024);
    expect(types(got)).toEqual(['deliver']); // no ACK yet: backpressure
    expect(d.state.deadline).toBeNull(); // no retransmission while the sink writes
    expect(acks(d.delivered())).toEqual([1]);
    expect(acks(d.block(2, 1024))).toEqual([2]);
    const end = d.block(3, 52);
    expect(types(end)).toEqual(['deliver', 'send:ack', 'done']);
    expect(end.at(-1)).toMatchObject({ type: 'done', bytes: 2100, blocks: 3, total: 2100 });
    expect(d.state.phase).toBe('dallying');
  });

  it('an OACK offering more than asked is refused with ERROR 8 and TFTP_BAD_OACK', () => {
    const d = new Driver({ blksize: 1024 });
    d.start();
    const a = d.oack([['blksize', '2048']]);
    expect(sends(a)).toEqual([{ op: 'error', code: 8, message: 'Bad option acknowledgement' }]);
    expect(failure(a)?.code).toBe('TFTP_BAD_OACK');
    expect(d.state.phase).toBe('closed');
  });

  it('an OACK to a request without options is an illegal operation', () => {
    const d = new Driver({ options: false });
    d.start();
    const a = d.oack([['blksize', '512']]);
    expect(sends(a)).toEqual([{ op: 'error', code: 4, message: 'Unexpected OACK' }]);
    expect(failure(a)?.code).toBe('TFTP_PROTOCOL');
  });

  it('a repeated OACK (our ACK 0 lost) is not answered; the timer re-sends ACK 0', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '1468']]);
    expect(d.oack([['blksize', '1468']])).toEqual([]);
    expect(acks(d.tick(1000))).toEqual([0]);
  });
});

describe('TFTP machine: option refusal fallback', () => {
  it('ERROR 8 to the request with options -> the same request without options', () => {
    const d = new Driver();
    d.start();
    const a = d.packet({ op: 'error', code: 8, message: 'unsupported option(s) requested' }, 50000);
    expect(types(a)).toEqual(['log', 'send:rrq']);
    expect(a[0]).toMatchObject({ level: 'warn' });
    expect(sends(a)[0]).toEqual({ op: 'rrq', file: 'fw.bin', mode: 'octet', options: [] });
    expect(d.state).toMatchObject({ phase: 'requesting', withOptions: false, tid: null });
    // the plain transfer proceeds with 512-byte blocks
    expect(types(d.data(1, 512, TID))).toEqual(['deliver']);
    expect(d.state).toMatchObject({ blksize: 512, tid: TID });
    expect(types([...d.delivered(), ...d.block(2, 10)])).toEqual(['send:ack', 'deliver', 'send:ack', 'done']);
  });

  it('ERROR 8 to a request without options is a real error', () => {
    const d = new Driver({ options: false });
    d.start();
    expect(failure(d.packet({ op: 'error', code: 8, message: 'no' }))?.code).toBe('TFTP_OPTION_REFUSED');
  });

  it('DATA instead of OACK -> plain RFC 1350: 512-byte blocks, no size, logged', () => {
    const d = new Driver();
    d.start();
    const a = d.data(1, 512);
    expect(types(a)).toEqual(['log', 'deliver']);
    expect(a[0]).toMatchObject({ level: 'info' });
    expect(d.state).toMatchObject({ blksize: 512, windowsize: 1, total: null, tid: TID });
    expect(types(d.delivered())).toEqual(['send:ack']);
    // a 512-byte block is not the last one; 100 bytes is
    expect(types(d.block(2, 100))).toEqual(['deliver', 'send:ack', 'done']);
  });

  it('a block larger than the negotiated blksize is a protocol error', () => {
    const d = new Driver();
    d.start();
    const a = d.data(1, 600); // no OACK: 512 is the limit
    expect(failure(a)?.code).toBe('TFTP_PROTOCOL');
    expect(sends(a)).toEqual([{ op: 'error', code: 4, message: 'Block larger than blksize' }]);
  });
});

describe('TFTP machine: duplicates and timeouts', () => {
  it('duplicate DATA is never answered (no Sorcerer\'s Apprentice); only the timer re-sends, once per expiry', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '512']]);
    d.block(1, 512);
    d.now = 100;
    expect(d.block(2, 512).length).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect(d.data(2, 512)).toEqual([]);
    for (let i = 0; i < 5; i++) expect(d.data(1, 512)).toEqual([]);
    expect(d.state.counters.duplicates).toBe(15);
    expect(d.tick(500)).toEqual([]); // before the deadline: nothing
    expect(acks(d.tick(1100))).toEqual([2]);
    expect(acks(d.tick(1100))).toEqual([]); // a stale tick does nothing
    expect(d.state.counters.retransmits).toBe(1);
  });

  it('no answer to the request: retries RRQs, then TFTP_TIMEOUT', () => {
    const d = new Driver({ retries: 3, timeout: 2 });
    d.start();
    let rrqs = 1;
    let err: AgentError | undefined;
    for (let t = 2000; !err; t += 2000) {
      const a = d.tick(t);
      rrqs += sends(a).filter((p) => p.op === 'rrq').length;
      err = failure(a);
    }
    expect(rrqs).toBe(4); // 1 + 3 retries
    expect(err.code).toBe('TFTP_TIMEOUT');
    expect(err.details).toMatchObject({ phase: 'requesting', tries: 4, bytes: 0 });
    expect(types(d.log).at(-1)).toBe('close');
  });

  it('server gone mid-transfer: re-ACKs the last block `retries` times, then TFTP_TIMEOUT with the partial count', () => {
    const d = new Driver({ retries: 2 });
    d.start();
    d.oack([['blksize', '512'], ['tsize', '5000']]);
    d.block(1, 512);
    d.block(2, 512);
    const a1 = d.tick(1000);
    const a2 = d.tick(2000);
    expect([...acks(a1), ...acks(a2)]).toEqual([2, 2]);
    const a3 = d.tick(3000);
    expect(sends(a3)).toEqual([]);
    expect(failure(a3)?.details).toMatchObject({ phase: 'transferring', bytes: 1024, blocks: 2, total: 5000 });
    expect(failure(a3)?.code).toBe('TFTP_TIMEOUT');
  });

  it('progress resets the retry count', () => {
    const d = new Driver({ retries: 1 });
    d.start();
    d.oack([['blksize', '512']]);
    d.tick(1000); // one retry used
    d.now = 1500;
    d.block(1, 512);
    expect(acks(d.tick(2500))).toEqual([1]); // a fresh retry, not a failure
  });
});

describe('TFTP machine: TIDs and errors', () => {
  it('a packet from another port gets ERROR 5 there and changes nothing else', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '512']]);
    const before = d.state;
    const a = d.data(1, 512, TID + 1);
    expect(a.filter((x) => x.type === 'send')).toEqual([
      { type: 'send', address: SERVER, port: TID + 1, packet: { op: 'error', code: 5, message: 'Unknown transfer ID' } },
    ]);
    expect(d.state).toEqual({ ...before, counters: { ...before.counters, foreign: 1 } });
  });

  it('a packet from another address gets ERROR 5; an ERROR from a foreign TID gets nothing', () => {
    const d = new Driver();
    d.start();
    const a = d.packet({ op: 'data', block: 1, data: new Uint8Array(3) }, 4444, '198.18.32.9');
    expect(a.find((x) => x.type === 'send')).toMatchObject({ address: '198.18.32.9', port: 4444, packet: { op: 'error', code: 5 } });
    expect(d.state.tid).toBeNull();
    d.oack([]);
    expect(sends(d.packet({ op: 'error', code: 0, message: 'x' }, TID + 7))).toEqual([]);
  });

  it('an undecodable packet from the server is ignored (logged)', () => {
    const d = new Driver();
    d.start();
    const a = d.feed({ type: 'packet', bytes: new Uint8Array([0, 9, 1]), address: SERVER, port: TID, now: 0 });
    expect(types(a)).toEqual(['log']);
    expect(d.state.counters.malformed).toBe(1);
    expect(d.state.phase).toBe('requesting');
  });

  const CODES: Array<[number, string]> = [
    [0, 'TFTP_ERROR'],
    [1, 'TFTP_FILE_NOT_FOUND'],
    [2, 'TFTP_ACCESS'],
    [3, 'TFTP_DISK_FULL'],
    [4, 'TFTP_ILLEGAL_OP'],
    [5, 'TFTP_UNKNOWN_TID'],
    [6, 'TFTP_FILE_EXISTS'],
    [7, 'TFTP_NO_USER'],
    [42, 'TFTP_ERROR'],
  ];
  for (const [code, name] of CODES) {
    it(`ERROR ${code} from the server (request or transfer) -> ${name} with its message`, () => {
      const d = new Driver();
      d.start();
      const e1 = failure(d.packet({ op: 'error', code, message: 'server says no' }, 50000));
      expect(e1?.code).toBe(name);
      expect(e1?.message).toContain('server says no');
      const d2 = new Driver();
      d2.start();
      d2.oack([]);
      d2.block(1, 512);
      const e2 = failure(d2.packet({ op: 'error', code, message: 'later' }));
      expect(e2?.code).toBe(name);
      expect(e2?.details).toMatchObject({ bytes: 512, serverCode: code });
    });
  }

  it('abort after the TID is known tells the server with an ERROR, then fails with the given error', () => {
    const d = new Driver();
    d.start();
    d.oack([['tsize', '99999999']]);
    const err = new AgentError('SLOT_TOO_SMALL', 'image larger than the slot');
    const a = d.feed({ type: 'abort', now: 0, error: err, code: 3, message: 'Disk full or allocation exceeded' });
    expect(types(a)).toEqual(['send:error', 'fail', 'close']);
    expect(sends(a)[0]).toEqual({ op: 'error', code: 3, message: 'Disk full or allocation exceeded' });
    expect(failure(a)).toBe(err);
  });

  it('abort before any answer sends nothing (no TID to send to)', () => {
    const d = new Driver();
    d.start();
    const a = d.feed({ type: 'abort', now: 0, error: new AgentError('TFTP_ABORTED', 'x') });
    expect(types(a)).toEqual(['fail', 'close']);
    expect(d.feed({ type: 'tick', now: 99999 })).toEqual([]);
  });
});

describe('TFTP machine: tsize checks, empty file, dally', () => {
  it('more data than tsize is refused before it reaches the sink', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '512'], ['tsize', '600']]);
    d.block(1, 512);
    const a = d.data(2, 512);
    expect(types(a)).toEqual(['send:error', 'fail', 'close']);
    expect(failure(a)?.code).toBe('TFTP_SIZE_MISMATCH');
  });

  it('a transfer ending short of tsize fails', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '512'], ['tsize', '2000']]);
    d.block(1, 512);
    expect(failure(d.data(2, 100))?.code).toBe('TFTP_SIZE_MISMATCH');
  });

  it('an empty file: no write, final ACK, done', () => {
    const d = new Driver();
    d.start();
    d.oack([['tsize', '0']]);
    const a = d.data(1, 0);
    expect(types(a)).toEqual(['send:ack', 'done']);
    expect(a.at(-1)).toMatchObject({ bytes: 0, blocks: 1 });
  });

  it('dallying: a repeated last block is ACKed again; then the socket is released', () => {
    const d = new Driver();
    d.start();
    d.oack([['blksize', '512']]);
    d.block(1, 10);
    expect(acks(d.data(1, 10))).toEqual([1]);
    expect(d.data(7, 10)).toEqual([]);
    expect(types(d.tick(2000))).toEqual(['close']);
    expect(d.state.phase).toBe('closed');
  });
});

describe('TFTP machine: windowsize (RFC 7440)', () => {
  function windowed(ws = 4): Driver {
    const d = new Driver({ windowsize: ws, blksize: 512 });
    d.start();
    d.oack([['blksize', '512'], ['windowsize', String(ws)]]);
    return d;
  }

  it('ACKs only the last block of each window, and the final block', () => {
    const d = windowed(4);
    const sent: number[] = [];
    for (let b = 1; b <= 9; b++) sent.push(...acks(d.block(b, 512)));
    sent.push(...acks(d.block(10, 7)));
    expect(sent).toEqual([4, 8, 10]);
  });

  it('on a gap ACKs the last in-order block once, ignores the rest of the window, then resumes', () => {
    const d = windowed(4);
    d.block(1, 512);
    d.block(2, 512);
    expect(acks(d.data(4, 512))).toEqual([2]); // 3 lost
    expect(d.data(5, 512)).toEqual([]); // no second ACK for the same gap
    expect(d.data(6, 512)).toEqual([]);
    expect(d.state.counters.gaps).toBe(3);
    // the sender restarts at 3: a new window of 4 counted from there
    const sent: number[] = [];
    for (let b = 3; b <= 6; b++) sent.push(...acks(d.block(b, 512)));
    expect(sent).toEqual([6]);
  });

  it('a timeout re-ACKs the last in-order block and restarts the window count', () => {
    const d = windowed(4);
    d.block(1, 512);
    d.block(2, 512);
    expect(acks(d.tick(5000))).toEqual([2]);
    const sent: number[] = [];
    for (let b = 3; b <= 6; b++) sent.push(...acks(d.block(b, 512)));
    expect(sent).toEqual([6]);
  });
});

describe('TFTP machine: block-number rollover', () => {
  it('runs past 65535 blocks: 65535 -> 0 -> 1, every byte delivered in order', () => {
    const d = new Driver({ blksize: 8 });
    d.start();
    const total = 70_000 * 8 + 3;
    d.oack([['blksize', '8'], ['tsize', String(total)]]);
    let wire = 0;
    let delivered = 0;
    const ackSeq: number[] = [];
    for (let i = 1; i <= 70_001; i++) {
      wire = i & 0xffff;
      const a = d.block(wire, i === 70_001 ? 3 : 8);
      for (const x of a) if (x.type === 'deliver') delivered += x.data.length;
      if (i >= 65534 && i <= 65538) ackSeq.push(...acks(a));
      expect(failure(a)).toBeUndefined();
    }
    expect(ackSeq).toEqual([65534, 65535, 0, 1, 2]);
    expect(delivered).toBe(total);
    expect(d.log.at(-1)).toMatchObject({ type: 'done', bytes: total, blocks: 70_001 });
  });

  it('after the wrap, block 65535 again is a duplicate, not new data', () => {
    const d = new Driver({ blksize: 8 });
    d.start();
    d.oack([['blksize', '8']]);
    for (let i = 1; i <= 65537; i++) d.block(i & 0xffff, 8);
    expect(d.data(65535, 8)).toEqual([]);
    expect(d.state.counters.duplicates).toBe(1);
    expect(d.state.expected).toBe(2);
  });
});
