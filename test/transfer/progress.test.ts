import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { RateMeter, formatBytes, createProgressRenderer } from '../../agent/transfer/progress.ts';
import { createLogger } from '../../agent/log.ts';

describe('RateMeter', () => {
  it('converges to a steady rate and ignores samples closer than the minimum interval', () => {
    const m = new RateMeter({ halfLifeMs: 1000, minIntervalMs: 100 });
    let bytes = 0;
    m.sample(0, 0);
    for (let t = 100; t <= 10_000; t += 100) {
      bytes += 100_000; // 1 MB/s
      m.sample(bytes, t);
    }
    expect(m.rate).toBeCloseTo(1_000_000, -3);
    expect(m.sample(bytes + 50_000_000, 10_050)).toBeCloseTo(1_000_000, -3);
  });

  it('formats sizes for humans', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(64 * 1024 * 1024)).toBe('64.0 MiB');
  });
});

describe('createProgressRenderer (not a TTY)', () => {
  it('prints at most one log line per interval, and a final line', () => {
    const lines: string[] = [];
    const log = createLogger({ format: 'json', destination: { write: (s: string) => lines.push(s) } });
    let t = 0;
    const stream = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false });
    const r = createProgressRenderer({ label: 'fw.bin', log, stream, intervalMs: 1000, now: () => t });
    for (t = 0; t < 3000; t += 100) r.update({ bytes: t * 1000, total: 3_000_000, rate: 1_000_000 });
    r.done({ bytes: 3_000_000, total: 3_000_000, rate: 1_000_000 });
    expect(lines.length).toBe(4);
    expect(JSON.parse(lines[3] ?? '{}')).toMatchObject({ bytes: 3_000_000, total: 3_000_000, percent: 100 });
    expect(lines[3]).toMatch(/fw\.bin: done 2\.9 MiB of 2\.9 MiB/);
  });
});
