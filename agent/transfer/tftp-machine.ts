/**
 * TFTP read (RRQ) client as a pure state machine: (state, event) -> (state, actions).
 * No sockets, no clock: `now` (ms, monotonic) comes with every event and the only timer is
 * `state.deadline`, which the shell turns into a `tick` event.
 *
 * Rules implemented (see tftp-options.ts for negotiation):
 * - RFC 1350: the server's TID is the port of its first DATA/OACK; anything from another
 *   source gets ERROR 5 and is otherwise ignored. The last block is the one shorter than
 *   blksize; it gets a final ACK, then we dally (answer a retransmitted last block) for a
 *   while without holding the caller.
 * - RFC 1123 4.2.3.1 (Sorcerer's Apprentice): a duplicate DATA is never answered; ACKs are
 *   retransmitted only when our own timer expires, at most `retries` times in a row.
 * - RFC 7440: with window W, ACK every W-th in-order block and the last block; on a gap
 *   ACK the last in-order block once, then wait.
 * - Backpressure: a block is handed out as a `deliver` action; its ACK is only sent on the
 *   `delivered` event, i.e. after the sink accepted it.
 * - Block numbers roll over 65535 -> 0 (as tftpd-hpa and RFC 7440 senders do).
 * - Fallback: ERROR 8 to our request with options -> the same request without options;
 *   DATA instead of OACK -> plain RFC 1350 (512-byte blocks, no tsize).
 */
import { AgentError } from '../errors.ts';
import { decodePacket, ErrorCode, type TftpPacket } from './tftp-packets.ts';
import { negotiate, requestOptions, type TftpConfig } from './tftp-options.ts';
import { errorFromServer } from './tftp-errors.ts';

export type Phase = 'idle' | 'requesting' | 'transferring' | 'dallying' | 'closed';

export interface TftpCounters {
  /** our packets re-sent after a timeout */
  retransmits: number;
  /** DATA blocks received again (ignored) */
  duplicates: number;
  /** out-of-order DATA blocks (window gaps) */
  gaps: number;
  /** packets from a foreign source (answered with ERROR 5) */
  foreign: number;
  /** undecodable packets from the server (ignored) */
  malformed: number;
}

export interface TftpState {
  readonly cfg: TftpConfig;
  readonly phase: Phase;
  /** our current request carries options */
  readonly withOptions: boolean;
  /** the server's transfer ID (its port), once known */
  readonly tid: number | null;
  readonly blksize: number;
  readonly windowsize: number;
  readonly timeoutMs: number;
  /** tsize, when the server told it */
  readonly total: number | null;
  /** next wanted block number (16 bits) */
  readonly expected: number;
  /** in-order blocks received */
  readonly blocks: number;
  readonly bytes: number;
  /** in-order blocks since our last ACK */
  readonly inWindow: number;
  /** a gap in this window was already answered */
  readonly gapAcked: boolean;
  /** consecutive timeouts without progress */
  readonly retries: number;
  /** when `tick` acts next; null = no timer */
  readonly deadline: number | null;
  /** a deliver action is outstanding; `last` = it is the final block */
  readonly delivering: 'no' | 'block' | 'last';
  readonly counters: TftpCounters;
}

export type TftpEvent =
  | { type: 'start'; now: number }
  | { type: 'packet'; bytes: Uint8Array; address: string; port: number; now: number }
  | { type: 'delivered'; now: number }
  | { type: 'tick'; now: number }
  /** Local abort: tells the server with an ERROR (`code`, default 0) and fails with `error`. */
  | { type: 'abort'; now: number; error: AgentError; code?: number; message?: string };

export type LogLevel = 'debug' | 'info' | 'warn';

export type TftpAction =
  | { type: 'send'; packet: TftpPacket; address: string; port: number }
  /** the size (tsize) is known: sent before ACK 0, i.e. before any data is requested */
  | { type: 'size'; total: number }
  /** hand one in-order block to the sink, then send `delivered` */
  | { type: 'deliver'; data: Uint8Array }
  | { type: 'log'; level: LogLevel; msg: string; details?: Record<string, string | number | boolean | null> }
  /** the transfer is complete: resolve now (the machine dallies on) */
  | { type: 'done'; bytes: number; blocks: number; total: number | null; counters: TftpCounters }
  | { type: 'fail'; error: AgentError }
  /** nothing more to do: release the socket */
  | { type: 'close' };

export interface Step {
  state: TftpState;
  actions: TftpAction[];
}

const ZERO: TftpCounters = { retransmits: 0, duplicates: 0, gaps: 0, foreign: 0, malformed: 0 };

/** How long we stay around after the final ACK, in timeouts. */
const DALLY_TIMEOUTS = 2;

export function initialState(cfg: TftpConfig): TftpState {
  return {
    cfg,
    phase: 'idle',
    withOptions: cfg.options,
    tid: null,
    blksize: 512,
    windowsize: 1,
    timeoutMs: cfg.timeout * 1000,
    total: null,
    expected: 1,
    blocks: 0,
    bytes: 0,
    inWindow: 0,
    gapAcked: false,
    retries: 0,
    deadline: null,
    delivering: 'no',
    counters: ZERO,
  };
}

export function step(s: TftpState, e: TftpEvent): Step {
  if (s.phase === 'closed') return { state: s, actions: [] };
  switch (e.type) {
    case 'start':
      return s.phase === 'idle' ? sendRequest({ ...s, phase: 'requesting', retries: 0 }, e.now, false) : same(s);
    case 'packet':
      return onPacket(s, e.bytes, e.address, e.port, e.now);
    case 'delivered':
      return onDelivered(s, e.now);
    case 'tick':
      return s.deadline !== null && e.now >= s.deadline ? onTimeout(s, e.now) : same(s);
    case 'abort':
      return onAbort(s, e.error, e.code ?? ErrorCode.NOT_DEFINED, e.message ?? 'Transfer aborted by client');
  }
}

function same(s: TftpState): Step {
  return { state: s, actions: [] };
}

function rrq(s: TftpState): TftpPacket {
  return { op: 'rrq', file: s.cfg.file, mode: 'octet', options: s.withOptions ? requestOptions(s.cfg) : [] };
}

function sendRequest(s: TftpState, now: number, retransmit: boolean): Step {
  const counters = retransmit ? { ...s.counters, retransmits: s.counters.retransmits + 1 } : s.counters;
  return {
    state: { ...s, deadline: now + s.timeoutMs, counters },
    actions: [{ type: 'send', packet: rrq(s), address: s.cfg.server, port: s.cfg.port }],
  };
}

function toServer(s: TftpState, packet: TftpPacket, port?: number): TftpAction {
  return { type: 'send', packet, address: s.cfg.server, port: port ?? s.tid ?? s.cfg.port };
}

function ack(s: TftpState, block: number): TftpAction {
  return toServer(s, { op: 'ack', block });
}

function fail(s: TftpState, error: AgentError, before: TftpAction[] = []): Step {
  return { state: { ...s, phase: 'closed', deadline: null }, actions: [...before, { type: 'fail', error }, { type: 'close' }] };
}

function progress(s: TftpState): Record<string, number | null> {
  return { bytes: s.bytes, blocks: s.blocks, total: s.total };
}

function onPacket(s: TftpState, bytes: Uint8Array, address: string, port: number, now: number): Step {
  let p: TftpPacket;
  try {
    p = decodePacket(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      state: { ...s, counters: { ...s.counters, malformed: s.counters.malformed + 1 } },
      actions: [{ type: 'log', level: 'debug', msg: 'ignored an undecodable packet', details: { from: `${address}:${port}`, why } }],
    };
  }
  const foreignAddress = address !== s.cfg.server;
  if (foreignAddress || (s.tid !== null && port !== s.tid)) return onForeign(s, p, address, port);
  if (s.delivering !== 'no') {
    // The shell serialises events: a packet while a block is being written is a shell bug.
    throw new AgentError('TFTP_INTERNAL', 'packet event while a block is being delivered');
  }
  switch (s.phase) {
    case 'requesting':
      return onRequestReply(s, p, port, now);
    case 'transferring':
      return onTransferPacket(s, p, now);
    case 'dallying':
      // Our final ACK was lost: the server repeats the last block. Answer each repeat once.
      if (p.op === 'data' && p.block === ((s.expected - 1) & 0xffff)) {
        return { state: { ...s, counters: { ...s.counters, duplicates: s.counters.duplicates + 1 } }, actions: [ack(s, p.block)] };
      }
      return same(s);
    default:
      return same(s);
  }
}

function onForeign(s: TftpState, p: TftpPacket, address: string, port: number): Step {
  const counters = { ...s.counters, foreign: s.counters.foreign + 1 };
  const actions: TftpAction[] = [{ type: 'log', level: 'debug', msg: 'packet from an unknown transfer ID', details: { from: `${address}:${port}`, op: p.op } }];
  // Never answer an ERROR with an ERROR (no loops).
  if (p.op !== 'error') actions.push({ type: 'send', packet: { op: 'error', code: ErrorCode.UNKNOWN_TID, message: 'Unknown transfer ID' }, address, port });
  return { state: { ...s, counters }, actions };
}

function onRequestReply(s: TftpState, p: TftpPacket, port: number, now: number): Step {
  switch (p.op) {
    case 'error':
      if (p.code === ErrorCode.OPTION_REFUSED && s.withOptions) {
        const next: TftpState = { ...s, withOptions: false, retries: 0 };
        const r = sendRequest(next, now, false);
        return {
          state: r.state,
          actions: [{ type: 'log', level: 'warn', msg: 'server refused our TFTP options; retrying as plain RFC 1350 (512-byte blocks, no tsize)', details: { serverMessage: p.message.slice(0, 100) } }, ...r.actions],
        };
      }
      return fail(s, errorFromServer(p.code, p.message, { file: s.cfg.file.slice(0, 100) }));
    case 'oack': {
      if (!s.withOptions) {
        const err = new AgentError('TFTP_PROTOCOL', 'server sent an OACK to a request without options');
        return fail(s, err, [toServer(s, { op: 'error', code: ErrorCode.ILLEGAL_OP, message: 'Unexpected OACK' }, port)]);
      }
      let n;
      try {
        n = negotiate(s.cfg, p.options);
      } catch (err) {
        const e = err instanceof AgentError ? err : new AgentError('TFTP_BAD_OACK', String(err));
        return fail(s, e, [toServer(s, { op: 'error', code: ErrorCode.OPTION_REFUSED, message: 'Bad option acknowledgement' }, port)]);
      }
      const next: TftpState = {
        ...s,
        phase: 'transferring',
        tid: port,
        blksize: n.blksize,
        windowsize: n.windowsize,
        timeoutMs: n.timeout * 1000,
        total: n.total,
        expected: 1,
        retries: 0,
        inWindow: 0,
        deadline: now + n.timeout * 1000,
      };
      const actions: TftpAction[] = [
        { type: 'log', level: 'debug', msg: 'options negotiated', details: { blksize: n.blksize, windowsize: n.windowsize, timeout: n.timeout, tsize: n.total, ignored: n.ignored.join(',') } },
      ];
      if (n.total !== null) actions.push({ type: 'size', total: n.total });
      actions.push(ack(next, 0));
      return { state: next, actions };
    }
    case 'data': {
      if (p.block !== 1) return same(s);
      const next: TftpState = { ...s, phase: 'transferring', tid: port, blksize: 512, windowsize: 1, total: null, expected: 1, retries: 0 };
      const r = onTransferPacket(next, p, now);
      if (!s.withOptions) return r;
      return { state: r.state, actions: [{ type: 'log', level: 'info', msg: 'server ignored our TFTP options: plain RFC 1350 transfer (512-byte blocks, size unknown)' }, ...r.actions] };
    }
    default:
      return same(s);
  }
}

function onTransferPacket(s: TftpState, p: TftpPacket, now: number): Step {
  if (p.op === 'error') return fail(s, errorFromServer(p.code, p.message, { file: s.cfg.file.slice(0, 100), ...progress(s) }));
  if (p.op !== 'data') return same(s); // a repeated OACK (our ACK 0 was lost) waits for our timer
  const diff = (p.block - s.expected) & 0xffff;
  if (diff === 0) return acceptBlock(s, p.data, now);
  if (diff < 0x8000) {
    // Ahead of what we expect: a block of this window was lost.
    const counters = { ...s.counters, gaps: s.counters.gaps + 1 };
    if (s.windowsize > 1 && !s.gapAcked) {
      const next: TftpState = { ...s, counters, gapAcked: true, inWindow: 0, deadline: now + s.timeoutMs };
      return { state: next, actions: [ack(s, (s.expected - 1) & 0xffff)] };
    }
    return { state: { ...s, counters }, actions: [] };
  }
  // Behind: a duplicate. Never answered (RFC 1123 4.2.3.1); our timer re-sends the ACK.
  return { state: { ...s, counters: { ...s.counters, duplicates: s.counters.duplicates + 1 } }, actions: [] };
}

function acceptBlock(s: TftpState, data: Uint8Array, now: number): Step {
  if (data.length > s.blksize) {
    const err = new AgentError('TFTP_PROTOCOL', `DATA block of ${data.length} bytes exceeds blksize ${s.blksize}`, progress(s));
    return fail(s, err, [toServer(s, { op: 'error', code: ErrorCode.ILLEGAL_OP, message: 'Block larger than blksize' })]);
  }
  const bytes = s.bytes + data.length;
  const last = data.length < s.blksize;
  if (s.total !== null && (bytes > s.total || (last && bytes !== s.total))) {
    const err = new AgentError('TFTP_SIZE_MISMATCH', `server announced ${s.total} bytes (tsize) but sent ${last ? '' : 'at least '}${bytes}`, { total: s.total, bytes });
    return fail(s, err, [toServer(s, { op: 'error', code: ErrorCode.NOT_DEFINED, message: 'Size differs from tsize' })]);
  }
  const next: TftpState = {
    ...s,
    expected: (s.expected + 1) & 0xffff,
    blocks: s.blocks + 1,
    bytes,
    inWindow: s.inWindow + 1,
    gapAcked: false,
    retries: 0,
    deadline: null,
    delivering: last ? 'last' : 'block',
  };
  if (data.length === 0) return onDelivered(next, now);
  return { state: next, actions: [{ type: 'deliver', data }] };
}

function onDelivered(s: TftpState, now: number): Step {
  if (s.phase !== 'transferring' || s.delivering === 'no') return same(s);
  const lastBlock = (s.expected - 1) & 0xffff;
  if (s.delivering === 'last') {
    const next: TftpState = { ...s, phase: 'dallying', delivering: 'no', deadline: now + DALLY_TIMEOUTS * s.timeoutMs };
    return {
      state: next,
      actions: [ack(s, lastBlock), { type: 'done', bytes: s.bytes, blocks: s.blocks, total: s.total, counters: s.counters }],
    };
  }
  const windowFull = s.inWindow >= s.windowsize;
  const next: TftpState = { ...s, delivering: 'no', inWindow: windowFull ? 0 : s.inWindow, deadline: now + s.timeoutMs };
  return { state: next, actions: windowFull ? [ack(s, lastBlock)] : [] };
}

function onTimeout(s: TftpState, now: number): Step {
  if (s.phase === 'dallying') return { state: { ...s, phase: 'closed', deadline: null }, actions: [{ type: 'close' }] };
  if (s.retries >= s.cfg.retries) {
    const what = s.phase === 'requesting' ? 'no answer to the request' : `no data after block ${s.blocks}`;
    const err = new AgentError('TFTP_TIMEOUT', `TFTP ${what} from ${s.cfg.server}:${s.tid ?? s.cfg.port} after ${s.retries + 1} tries of ${s.timeoutMs / 1000} s`, {
      phase: s.phase,
      tries: s.retries + 1,
      ...progress(s),
    });
    return fail(s, err);
  }
  const s1: TftpState = { ...s, retries: s.retries + 1 };
  if (s.phase === 'requesting') return sendRequest(s1, now, true);
  // Re-ACK the last in-order block: the sender restarts its window after it.
  const next: TftpState = {
    ...s1,
    inWindow: 0,
    gapAcked: false,
    deadline: now + s.timeoutMs,
    counters: { ...s.counters, retransmits: s.counters.retransmits + 1 },
  };
  return { state: next, actions: [ack(s, (s.expected - 1) & 0xffff)] };
}

function onAbort(s: TftpState, error: AgentError, code: number, message: string): Step {
  if (s.phase === 'dallying') return { state: { ...s, phase: 'closed', deadline: null }, actions: [{ type: 'close' }] };
  const before: TftpAction[] = s.tid !== null ? [toServer(s, { op: 'error', code, message })] : [];
  return fail(s, error, before);
}
