/**
 * The machine against a simulated RFC 1350/7440 sender over a lossy, duplicating,
 * reordering network, on a fake clock: whatever the network does, what reaches the sink
 * is an exact prefix of the file, a completed transfer is the whole file, the only failure
 * is TFTP_TIMEOUT, and ACKs never multiply (no Sorcerer's Apprentice).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { initialState, step, type TftpAction, type TftpEvent, type TftpState } from '../../agent/transfer/tftp-machine.ts';
import { makeConfig } from '../../agent/transfer/tftp-options.ts';
import { decodePacket, encodePacket, type TftpPacket } from '../../agent/transfer/tftp-packets.ts';
import { mulberry32 } from '../../agent/util/prng.ts';

const SERVER = '198.18.32.1';
const SPORT = 5000;

const rng = mulberry32;

interface Net {
  at: number;
  toServer: boolean;
  bytes: Uint8Array;
  port: number;
}

interface Params {
  size: number;
  blksize: number;
  ws: number;
  drop: number;
  dup: number;
  seed: number;
  slowSink: boolean;
}

function simulate(p: Params) {
  const rand = rng(p.seed);
  const file = new Uint8Array(p.size).map((_, i) => (i * 31 + 7) & 0xff);
  const nBlocks = Math.floor(p.size / p.blksize) + 1;
  let now = 0;
  let wire: Net[] = [];
  const put = (toServer: boolean, pkt: TftpPacket, port: number): void => {
    const bytes = encodePacket(pkt);
    const copies = rand() < p.dup ? 2 : 1;
    for (let i = 0; i < copies; i++) if (rand() >= p.drop) wire.push({ at: now + 1 + Math.floor(rand() * 5), toServer, bytes, port });
  };

  // --- simulated sender (one session, TID 5000) ---
  let base = 1; // first unacknowledged block (absolute)
  let sOack = false;
  let sDeadline = Infinity;
  let sRetries = 0;
  let sDone = false;
  const sendWindow = (): void => {
    for (let n = base; n < base + p.ws && n <= nBlocks; n++) {
      put(false, { op: 'data', block: n & 0xffff, data: file.subarray((n - 1) * p.blksize, Math.min(p.size, n * p.blksize)) }, SPORT);
    }
    sDeadline = now + 1000;
  };
  const sendOack = (): void => {
    put(false, { op: 'oack', options: [['blksize', String(p.blksize)], ['tsize', String(p.size)], ...(p.ws > 1 ? [['windowsize', String(p.ws)] as [string, string]] : [])] }, SPORT);
    sDeadline = now + 1000;
  };
  const server = (pkt: TftpPacket): void => {
    if (sDone) return;
    if (pkt.op === 'rrq') {
      if (!sOack) sendOack();
      return;
    }
    if (pkt.op === 'error') {
      sDone = true;
      return;
    }
    if (pkt.op !== 'ack') return;
    if (!sOack) {
      if (pkt.block !== 0) return;
      sOack = true;
      sRetries = 0;
      sendWindow();
      return;
    }
    for (let j = 0; j <= p.ws; j++) {
      const n = base - 1 + j;
      if ((n & 0xffff) !== pkt.block) continue;
      if (j === 0) {
        if (p.ws > 1) sendWindow(); // RFC 7440: restart after the last in-order block
        return; // lockstep: a duplicate ACK is never answered (RFC 1123)
      }
      base = n + 1;
      sRetries = 0;
      if (base > nBlocks) sDone = true;
      else sendWindow();
      return;
    }
  };
  const serverTimeout = (): void => {
    if (++sRetries > 30) {
      sDone = true;
      return;
    }
    if (sOack) sendWindow();
    else sendOack();
  };

  // --- the client machine, with a sink that may be slow ---
  let state: TftpState = initialState(makeConfig({ server: SERVER, file: 'f', blksize: p.blksize, windowsize: p.ws, retries: 8 }));
  const got: number[] = [];
  let outcome: 'done' | string | null = null;
  let busyUntil = -1;
  let closed = false;
  let ackCount = 0;
  let windowAcks = 0;
  const queue: Net[] = [];
  const run = (e: TftpEvent): void => {
    const r = step(state, e);
    state = r.state;
    for (const a of r.actions) act(a);
  };
  const act = (a: TftpAction): void => {
    switch (a.type) {
      case 'send':
        if (a.packet.op === 'ack') ackCount++;
        put(true, a.packet, a.port);
        break;
      case 'deliver':
        for (const b of a.data) got.push(b);
        busyUntil = p.slowSink ? now + Math.floor(rand() * 4) : now;
        if (busyUntil === now) run({ type: 'delivered', now });
        break;
      case 'done':
        outcome = 'done';
        break;
      case 'fail':
        outcome = a.error.code;
        break;
      case 'close':
        closed = true;
        break;
      default:
        break;
    }
  };

  run({ type: 'start', now });
  const ackBudget = 40 * (nBlocks + 10);
  for (let guard = 0; guard < 2_000_000 && !closed; guard++) {
    if (ackCount > ackBudget || wire.length > 10_000) {
      outcome = 'STORM'; // a packet explosion: stop here and fail the property
      break;
    }
    const pending = state.delivering !== 'no' && busyUntil > now;
    const nextWire = wire.reduce((m, w) => Math.min(m, w.at), Infinity);
    const next = Math.min(nextWire, pending ? busyUntil : Infinity, state.deadline ?? Infinity, sDone ? Infinity : sDeadline);
    if (next === Infinity) break;
    now = next;
    if (pending && busyUntil <= now) {
      run({ type: 'delivered', now });
      while (!closed && queue.length > 0 && state.delivering === 'no') {
        const q = queue.shift();
        if (q) run({ type: 'packet', bytes: q.bytes, address: SERVER, port: SPORT, now });
      }
      continue;
    }
    const arriving = wire.filter((w) => w.at <= now);
    wire = wire.filter((w) => w.at > now);
    for (const w of arriving) {
      if (w.toServer) {
        if (w.port === SPORT || w.port === 69) server(decodePacket(w.bytes));
      } else if (state.delivering !== 'no') {
        queue.push(w);
      } else {
        run({ type: 'packet', bytes: w.bytes, address: SERVER, port: SPORT, now });
      }
    }
    if (state.deadline !== null && now >= state.deadline && state.delivering === 'no') run({ type: 'tick', now });
    if (!sDone && now >= sDeadline) serverTimeout();
  }
  windowAcks = Math.ceil(nBlocks / p.ws) + 1;
  return { file, got, outcome, counters: state.counters, ackCount, windowAcks };
}

const params = fc.record({
  size: fc.integer({ min: 0, max: 6000 }),
  blksize: fc.integer({ min: 8, max: 600 }),
  ws: fc.integer({ min: 1, max: 6 }),
  drop: fc.constantFrom(0, 0.05, 0.2, 0.35),
  dup: fc.constantFrom(0, 0.1, 0.4),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  slowSink: fc.boolean(),
});

describe('TFTP machine over a lossy simulated network', () => {
  it('delivers an exact prefix always, the whole file when done, fails only by TFTP_TIMEOUT, never multiplies ACKs', () => {
    fc.assert(
      fc.property(params, (p) => {
        const r = simulate(p);
        expect(r.outcome).not.toBeNull();
        expect(Buffer.from(r.got).equals(Buffer.from(r.file.subarray(0, r.got.length)))).toBe(true);
        if (r.outcome === 'done') expect(r.got.length).toBe(p.size);
        else expect(r.outcome).toBe('TFTP_TIMEOUT');
        if (p.drop === 0) expect(r.outcome).toBe('done');
        // every ACK has a cause: a window (or the last block), a timeout, a gap, a repeated last block
        expect(r.ackCount).toBeLessThanOrEqual(r.windowAcks + r.counters.retransmits + r.counters.gaps + r.counters.duplicates + 1);
      }),
      { numRuns: 300 },
    );
  });

  it('windowed transfers across the block-number rollover (65535 → 0), with loss and duplicates', () => {
    // blksize 8: 65,536 blocks are 512 KiB; the file runs 1..400 blocks past the wrap
    let wrapped = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 2, max: 8 }),
        fc.constantFrom(0.01, 0.05),
        fc.constantFrom(0, 0.1),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (extra, ws, drop, dup, seed, slowSink) => {
          const size = (65_535 + extra) * 8 + (extra % 8);
          const r = simulate({ size, blksize: 8, ws, drop, dup, seed, slowSink });
          expect(Math.floor(size / 8) + 1).toBeGreaterThan(65_536);
          expect(r.outcome).toBe('done');
          expect(r.got.length).toBe(size);
          expect(Buffer.from(r.got).equals(Buffer.from(r.file))).toBe(true);
          expect(r.counters.retransmits + r.counters.gaps).toBeGreaterThan(0); // the loss really hit
          wrapped++;
        },
      ),
      { numRuns: 4 },
    );
    expect(wrapped).toBe(4);
  });

  it('duplicated traffic alone never adds ACKs beyond windows and timeouts (lockstep)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (size, seed) => {
        const r = simulate({ size, blksize: 64, ws: 1, drop: 0, dup: 0.5, seed, slowSink: false });
        expect(r.outcome).toBe('done');
        expect(r.counters.retransmits).toBe(0);
        // one ACK per block (+ ACK 0), plus at most one per repeated last block while dallying
        const blocks = Math.floor(size / 64) + 1;
        expect(r.ackCount).toBeLessThanOrEqual(blocks + 1 + r.counters.duplicates);
        expect(r.ackCount - (blocks + 1)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });
});
