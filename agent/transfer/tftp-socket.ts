/**
 * The TFTP client's I/O shell: one UDP socket, one timer, the pure machine in
 * tftp-machine.ts. Events are processed strictly one at a time; while the sink is writing
 * a block, arriving datagrams wait in a small bounded queue (UDP may drop; the protocol
 * recovers), so nothing is ACKed before the sink accepted it and memory stays flat
 * whatever the file size.
 */
import { monotonicMs } from '../util/clock.ts';
import dgram from 'node:dgram';
import { AgentError, asAgentError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { step, initialState, type TftpAction, type TftpEvent, type TftpState } from './tftp-machine.ts';
import { makeConfig, type TftpConfig } from './tftp-options.ts';
import { encodePacket, writeAck, ErrorCode } from './tftp-packets.ts';
import type { ByteSink, Fetcher, TransferOptions, TransferRequest, TransferResult } from './types.ts';

export interface TftpFetcherOptions {
  /** requested block size (default 1468) */
  blksize?: number;
  /** RFC 7440 window (default 1, see tftp-options.ts for why) */
  windowsize?: number;
  /** seconds, 1..255 (default 1) */
  timeout?: number;
  /** retransmissions before TFTP_TIMEOUT (default 5) */
  retries?: number;
  /** ask for tsize (default true) */
  tsize?: boolean;
  /** false: plain RFC 1350 request without options */
  options?: boolean;
  /** bind the socket to this local address (the WAN address) */
  localAddress?: string;
  log?: Logger;
  /** minimum interval between onProgress calls (default 250 ms; the last one always comes) */
  progressIntervalMs?: number;
}

/** Datagrams queued while the sink is busy; beyond this they are dropped like on a full socket. */
const MAX_QUEUED = 256;
const RECV_BUFFER = 2 * 1024 * 1024;

export function createTftpFetcher(o: TftpFetcherOptions = {}): Fetcher {
  return async (req, sink, opts = {}) => {
    if (req.protocol !== 'tftp') throw new AgentError('TFTP_BAD_REQUEST', `not a TFTP request: ${req.protocol}`);
    const cfg = makeConfig({
      server: req.server,
      file: req.file,
      ...(req.port !== undefined && { port: req.port }),
      ...pick(o),
    });
    if (opts.signal?.aborted) throw new AgentError('TFTP_ABORTED', 'transfer aborted before it started', { file: req.file.slice(0, 100) });
    return transfer(cfg, sink, opts, o);
  };
}

/** The default TFTP fetcher (blksize 1468, windowsize 1, timeout 1 s, 5 retries). */
export const fetchTftp: Fetcher = createTftpFetcher();

function pick(o: TftpFetcherOptions): Partial<TftpConfig> {
  const out: Partial<TftpConfig> = {};
  if (o.blksize !== undefined) out.blksize = o.blksize;
  if (o.windowsize !== undefined) out.windowsize = o.windowsize;
  if (o.timeout !== undefined) out.timeout = o.timeout;
  if (o.retries !== undefined) out.retries = o.retries;
  if (o.tsize !== undefined) out.tsize = o.tsize;
  if (o.options !== undefined) out.options = o.options;
  return out;
}

interface Queued {
  bytes: Uint8Array;
  address: string;
  port: number;
}

function transfer(cfg: TftpConfig, sink: ByteSink, opts: TransferOptions, o: TftpFetcherOptions): Promise<TransferResult> {
  const log = (o.log ?? silentLogger()).child({ tftp: `${cfg.server}:${cfg.port}`, file: cfg.file.slice(0, 100) });
  const progressEvery = o.progressIntervalMs ?? 250;
  const now = monotonicMs;
  const started = now();

  return new Promise<TransferResult>((resolve, reject) => {
    let state: TftpState = initialState(cfg);
    let settled = false;
    let closed = false;
    let busy = false;
    const queue: Queued[] = [];
    let timer: NodeJS.Timeout | null = null;
    let timerAt = Infinity;
    // Progress and rate (exponentially smoothed over ~1 s).
    let lastProgressAt = started;
    let lastRateAt = started;
    let lastRateBytes = 0;
    let rate = 0;
    // A few reusable ACK buffers, each with its own completion callback (no allocation per
    // ACK); one still in flight is never overwritten.
    const acks = Array.from({ length: 4 }, () => {
      const slot = {
        buf: Buffer.alloc(4),
        busy: false,
        port: 0,
        address: '',
        done: (err: Error | null): void => {
          slot.busy = false;
          if (err) onSendError(err, slot.address, slot.port);
        },
      };
      return slot;
    });
    let ackNext = 0;
    /** dispatching a `delivered` event: its ACK takes the callback-less hot path */
    let inDelivered = false;

    const sock = dgram.createSocket({
      type: 'udp4',
      recvBufferSize: RECV_BUFFER,
      // Addresses are literals (validated): skip the resolver's extra tick per datagram.
      lookup: (host, _opts, cb) => cb(null, host, 4),
    });

    const onAbortSignal = (): void => {
      const err = new AgentError('TFTP_ABORTED', 'TFTP transfer aborted', { bytes: state.bytes, blocks: state.blocks, total: state.total });
      dispatch({ type: 'abort', now: now(), error: err });
    };

    function settle(err: AgentError | null, result?: TransferResult): void {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbortSignal);
      if (err) reject(err);
      else if (result) resolve(result);
    }

    function close(): void {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      queue.length = 0;
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    }

    function onSendError(err: Error, address: string, port: number): void {
      if (!settled) dispatchFailure(asAgentError(err, 'TFTP_NETWORK', `sending to ${address}:${port} failed`));
    }

    function send(a: Extract<TftpAction, { type: 'send' }>): void {
      if (closed) return;
      if (a.packet.op === 'ack' && inDelivered) {
        // The hot path: the ACK of a block the sink just accepted. Sent without a completion
        // callback (Node would schedule one more tick per block) from a fresh 4-byte buffer
        // (nothing to keep track of). Node drops a failure of a callback-less send silently;
        // then no DATA follows, our timer re-sends this ACK through the path below, and that
        // send reports the error (TFTP_NETWORK), one timeout later.
        const buf = Buffer.allocUnsafe(4);
        writeAck(buf, a.packet.block);
        sock.send(buf, a.port, a.address);
        return;
      }
      if (a.packet.op === 'ack') {
        const slot = acks[ackNext];
        ackNext = (ackNext + 1) & 3;
        if (slot && !slot.busy) {
          writeAck(slot.buf, a.packet.block);
          slot.busy = true;
          slot.port = a.port;
          slot.address = a.address;
          sock.send(slot.buf, a.port, a.address, slot.done);
          return;
        }
      }
      sock.send(encodePacket(a.packet), a.port, a.address, (err) => {
        if (err) onSendError(err, a.address, a.port);
      });
    }

    function dispatchFailure(err: AgentError): void {
      // A local failure the machine does not know about (socket): fail and release.
      state = { ...state, phase: 'closed', deadline: null };
      settle(err);
      close();
    }

    function reportProgress(force: boolean): void {
      const t = now();
      const dt = t - lastRateAt;
      if (dt >= 100) {
        const instant = ((state.bytes - lastRateBytes) * 1000) / dt;
        rate = rate === 0 ? instant : rate + (1 - Math.pow(0.5, dt / 1000)) * (instant - rate);
        lastRateAt = t;
        lastRateBytes = state.bytes;
      }
      if (!opts.onProgress || (!force && t - lastProgressAt < progressEvery)) return;
      lastProgressAt = t;
      try {
        opts.onProgress({ bytes: state.bytes, ...(state.total !== null && { total: state.total }), rate });
      } catch (e) {
        // A display problem must not break a download.
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'onProgress callback threw; ignored');
      }
    }

    /** Runs one event through the machine and executes its actions in order. */
    function dispatch(ev: TftpEvent): void {
      if (closed) return;
      let r;
      try {
        r = step(state, ev);
      } catch (e) {
        dispatchFailure(asAgentError(e, 'TFTP_INTERNAL', 'TFTP state machine'));
        return;
      }
      state = r.state;
      try {
        execute(r.actions, 0);
        armTimer();
      } catch (e) {
        dispatchFailure(asAgentError(e, 'TFTP_INTERNAL', 'TFTP client'));
      }
    }

    function execute(actions: TftpAction[], from: number): void {
      for (let i = from; i < actions.length; i++) {
        const a = actions[i];
        if (!a || closed) return;
        switch (a.type) {
          case 'send':
            send(a);
            break;
          case 'size':
            try {
              opts.onSize?.(a.total);
            } catch (e) {
              // Refused (e.g. larger than the slot): tell the server, write nothing.
              dispatch({ type: 'abort', now: now(), error: asAgentError(e, 'TFTP_ABORTED', 'size rejected'), code: ErrorCode.DISK_FULL, message: 'Disk full or allocation exceeded' });
              return;
            }
            break;
          case 'deliver': {
            let pending: Promise<void> | void;
            try {
              pending = sink.write(a.data);
            } catch (e) {
              sinkFailed(e);
              return;
            }
            if (pending && typeof pending.then === 'function') {
              busy = true;
              pending.then(
                () => {
                  busy = false;
                  delivered();
                  execute(actions, i + 1);
                  drain();
                },
                (e: unknown) => {
                  busy = false;
                  sinkFailed(e);
                },
              );
              return;
            }
            delivered();
            break;
          }
          case 'log':
            log[a.level](a.details ?? {}, a.msg);
            break;
          case 'done': {
            const elapsedMs = Math.round(now() - started);
            reportProgress(true);
            log.info({ bytes: a.bytes, blocks: a.blocks, elapsedMs, blksize: state.blksize, windowsize: state.windowsize, ...a.counters }, 'TFTP transfer complete');
            settle(null, { bytes: a.bytes, ...(a.total !== null && { total: a.total }), elapsedMs });
            // Dally for a retransmitted last block without holding the process.
            sock.unref();
            break;
          }
          case 'fail':
            log.warn({ code: a.error.code, ...a.error.details }, a.error.message);
            settle(a.error);
            break;
          case 'close':
            close();
            break;
        }
      }
    }

    function delivered(): void {
      if (closed) return;
      reportProgress(false);
      inDelivered = true;
      try {
        dispatch({ type: 'delivered', now: now() });
      } finally {
        inDelivered = false;
      }
    }

    function sinkFailed(e: unknown): void {
      dispatch({ type: 'abort', now: now(), error: asAgentError(e, 'TFTP_SINK_FAILED', 'writing the received data failed'), message: 'Local write failed' });
    }

    function drain(): void {
      while (!busy && !closed && queue.length > 0) {
        const q = queue.shift();
        if (q) dispatch({ type: 'packet', bytes: q.bytes, address: q.address, port: q.port, now: now() });
      }
    }

    function armTimer(): void {
      if (closed || state.deadline === null) return;
      // One timer: if it fires early (the deadline moved on), it re-arms itself.
      if (timer && timerAt <= state.deadline) return;
      if (timer) clearTimeout(timer);
      timerAt = state.deadline;
      timer = setTimeout(onTimer, Math.max(0, state.deadline - now()));
      // Dallying after the final ACK must not keep the process alive.
      if (state.phase === 'dallying') timer.unref();
    }

    function onTimer(): void {
      timer = null;
      timerAt = Infinity;
      if (busy) return; // a block is being written; the deadline is re-set when it is done
      dispatch({ type: 'tick', now: now() });
    }

    sock.on('message', (msg, rinfo) => {
      if (closed) return;
      if (busy) {
        if (queue.length < MAX_QUEUED) queue.push({ bytes: msg, address: rinfo.address, port: rinfo.port });
        return;
      }
      dispatch({ type: 'packet', bytes: msg, address: rinfo.address, port: rinfo.port, now: now() });
    });
    sock.on('error', (err) => dispatchFailure(asAgentError(err, 'TFTP_NETWORK', 'TFTP socket error')));
    opts.signal?.addEventListener('abort', onAbortSignal, { once: true });

    sock.bind({ port: 0, ...(o.localAddress !== undefined && { address: o.localAddress }) }, () => {
      log.debug({ blksize: cfg.blksize, windowsize: cfg.windowsize, timeout: cfg.timeout, retries: cfg.retries }, 'TFTP request');
      dispatch({ type: 'start', now: now() });
    });
  });
}
