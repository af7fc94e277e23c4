/**
 * Live capture: a `tcpdump -U -w - -i IF udp port 67 or udp port 68` child whose stdout is
 * parsed as a pcap stream (agent/pcap CaptureStream, resynchronising past garbage). The
 * engine is flushed (commit, then events) every `flushMs` (and whenever a batch is full),
 * not per packet: `tcpdump -U` hands over single packets, and an fsync per packet would cap
 * the rate. The same timer moves the clock for auto-logout when no packet arrives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CaptureStream } from '../../pcap/reader.ts';
import { AgentError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { LegEngine } from '../engine.ts';
import { feedRecord } from './packets.ts';

export interface LiveCapture {
  /** resolves when tcpdump has exited (after stop(), or by itself: then rejects) */
  done: Promise<void>;
  stop(): void;
}

export const CAPTURE_FILTER = 'udp port 67 or udp port 68';

export function captureArgs(iface: string): string[] {
  if (!/^[A-Za-z0-9_.:@-]{1,32}$/.test(iface)) throw new AgentError('LEG_IFACE_INVALID', `not an interface name: ${JSON.stringify(iface)}`, { iface });
  return ['-U', '-n', '-s', '0', '-w', '-', '-i', iface, CAPTURE_FILTER];
}

export function startLiveCapture(engine: LegEngine, iface: string, log: Logger, opts: { tcpdump?: string; flushMs: number }): LiveCapture {
  const child: ChildProcess = spawn(opts.tcpdump ?? 'tcpdump', captureArgs(iface), { stdio: ['ignore', 'pipe', 'pipe'] });
  const stream = new CaptureStream({ strict: false });
  let stopping = false;
  let stderr = '';
  let listening = false;
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
    if (!listening && stderr.includes('listening on')) {
      listening = true;
      log.info({ iface }, 'capture listening');
    }
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    try {
      for (const rec of stream.push(new Uint8Array(chunk))) feedRecord(engine, rec);
    } catch (e) {
      log.error({ err: e instanceof Error ? e.message : String(e) }, 'live capture: bad stream');
      stop();
    }
  });
  const timer = setInterval(() => {
    engine.tick(Date.now());
    engine.flush();
  }, opts.flushMs);
  function stop(): void {
    stopping = true;
    clearInterval(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => {
      clearInterval(timer);
      reject(new AgentError('LEG_CAPTURE_FAILED', `cannot run tcpdump: ${e.message}`, { iface }));
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      if (stream.stats.garbled > 0) engine.store.count('malformed.pcap', stream.stats.garbled);
      engine.flush();
      if (stopping) resolve();
      else reject(new AgentError('LEG_CAPTURE_FAILED', `tcpdump on ${iface} exited (${signal ?? code}): ${stderr.trim().split('\n').pop() ?? ''}`, { iface }));
    });
  });
  log.info({ iface, filter: CAPTURE_FILTER }, 'live capture started');
  return { done, stop };
}
