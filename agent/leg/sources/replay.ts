/**
 * Replay of a pcap/pcapng file, in order, with the capture timestamps as the clock.
 *
 * Resuming: the store keeps, per capture (source `replay:<identity>`, the identity being a
 * hash of the capture's first record), how many records were processed, committed with the
 * state they produced. A replay of a capture already seen (or of a longer one starting the
 * same way, e.g. a capture that was still being written) skips what was processed and
 * continues; a new capture starts from its beginning. So an interrupted replay followed by
 * a full one reports every event exactly once, and replaying old files again adds nothing.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { CaptureStream, type CaptureRecord } from '../../pcap/reader.ts';
import { AgentError } from '../../errors.ts';
import type { LegEngine } from '../engine.ts';
import { feedRecord } from './packets.ts';

export const REPLAY_SOURCE = 'replay';

export interface ReplayResult {
  records: number;
  skipped: number;
  dhcp: number;
  garbled: number;
  /** true when stopped by `shouldStop` before the end */
  stopped: boolean;
}

export function captureId(first: CaptureRecord): string {
  return createHash('sha256').update(String(first.time)).update(first.data).digest('hex').slice(0, 32);
}

/** Replays `file`; yields to the event loop between chunks so a signal can stop it cleanly. */
export async function replayFile(engine: LegEngine, file: string, opts: { shouldStop?: () => boolean; chunkSize?: number } = {}): Promise<ReplayResult> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new AgentError('LEG_REPLAY_OPEN', `cannot open capture ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  const stream = new CaptureStream({ strict: false });
  const chunkSize = opts.chunkSize ?? 1 << 20;
  const res: ReplayResult = { records: 0, skipped: 0, dhcp: 0, garbled: 0, stopped: false };
  let id: string | undefined;
  let resumeAt = 0;
  let index = 0;
  let time = 0;
  engine.trackPosition(() => (id === undefined || index === 0 ? undefined : { source: `${REPLAY_SOURCE}:${id}`, position: { captureId: id, index, time } }));
  try {
    // Two read buffers, used in turn: records are views into the chunk just read, and are
    // processed before the next read, which goes to the other buffer (after the tail of an
    // incomplete record, copied from this one). No allocation per chunk: 10^6 records in
    // fresh 1 MiB chunks made the garbage collector run for the buffers. Plain Uint8Arrays,
    // not Buffers: a record's data is then a Uint8Array, whose subarray is cheaper.
    const bufs = [new Uint8Array(chunkSize), new Uint8Array(chunkSize)];
    for (let turn = 0; ; turn ^= 1) {
      const tail = stream.takeTail();
      let buf = bufs[turn] as Uint8Array;
      // a record longer than half a buffer: grow, so each read still brings at least half
      if (tail.length >= buf.length - (chunkSize >> 1)) buf = bufs[turn] = new Uint8Array(tail.length + chunkSize);
      buf.set(tail, 0);
      const n = readSync(fd, buf, tail.length, buf.length - tail.length, null);
      const len = tail.length + n;
      const records = len > 0 ? stream.push(buf.subarray(0, len)) : [];
      if (n === 0) stream.end();
      for (const rec of records) {
        if (id === undefined) {
          id = captureId(rec);
          const pos = engine.store.position(`${REPLAY_SOURCE}:${id}`);
          resumeAt = pos && pos.captureId === id ? pos.index : 0;
        }
        res.records++;
        if (rec.frame <= resumeAt) {
          res.skipped++;
          continue;
        }
        index = rec.frame;
        time = Math.floor(rec.time);
        if (feedRecord(engine, rec)) res.dhcp++;
      }
      if (n === 0) break;
      await new Promise((r) => setImmediate(r));
      if (opts.shouldStop?.()) {
        res.stopped = true;
        break;
      }
    }
  } catch (e) {
    if (e instanceof AgentError && e.code.startsWith('PCAP_')) {
      throw new AgentError(e.code, `${file}: ${e.message}`, { ...e.details, file });
    }
    throw e;
  } finally {
    closeSync(fd);
  }
  res.garbled = stream.stats.garbled;
  if (res.garbled > 0) engine.store.count('malformed.pcap', res.garbled);
  engine.flush();
  return res;
}
