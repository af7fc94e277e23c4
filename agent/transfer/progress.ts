/**
 * Transfer progress: a pure rate meter (exponentially smoothed bytes/s, the clock is an
 * argument) and a renderer that shows a cli-progress bar on a TTY and periodic log lines
 * otherwise (daemons, CI, serial consoles).
 */
import type { Logger } from '../log.ts';
import type { TransferProgress } from './types.ts';

/**
 * Smoothed transfer rate. `sample(bytes, now)` takes the running byte count and a
 * millisecond timestamp; samples closer than `minIntervalMs` are accumulated so a burst of
 * tiny chunks does not make the rate jump. Half-life of the smoothing: `halfLifeMs`.
 */
export class RateMeter {
  private readonly halfLifeMs: number;
  private readonly minIntervalMs: number;
  private lastAt: number | undefined;
  private lastBytes = 0;
  private smoothed = 0;
  private primed = false;

  constructor(opts: { halfLifeMs?: number; minIntervalMs?: number } = {}) {
    this.halfLifeMs = opts.halfLifeMs ?? 2000;
    this.minIntervalMs = opts.minIntervalMs ?? 100;
  }

  /** Current smoothed rate in bytes/s (0 until two samples far enough apart). */
  get rate(): number {
    return this.smoothed;
  }

  /** Restart the baseline (after a reconnect) without forgetting the smoothed rate. */
  rebase(bytes: number, now: number): void {
    this.lastAt = now;
    this.lastBytes = bytes;
  }

  sample(bytes: number, now: number): number {
    if (this.lastAt === undefined) {
      this.rebase(bytes, now);
      return this.smoothed;
    }
    const dt = now - this.lastAt;
    if (dt < this.minIntervalMs) return this.smoothed;
    const instant = ((bytes - this.lastBytes) * 1000) / dt;
    if (!this.primed) {
      this.smoothed = instant;
      this.primed = true;
    } else {
      const alpha = 1 - Math.pow(0.5, dt / this.halfLifeMs);
      this.smoothed += alpha * (instant - this.smoothed);
    }
    this.lastAt = now;
    this.lastBytes = bytes;
    return this.smoothed;
  }
}

/** "12.3 MiB" style sizes for humans. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export interface ProgressRenderer {
  update(p: TransferProgress): void;
  /** Final line / stop the bar. */
  done(p?: TransferProgress): void;
}

/**
 * A renderer for `label`: on a TTY (`stream.isTTY`) a cli-progress bar, otherwise an info
 * log line at most every `intervalMs` (and at the end).
 */
export function createProgressRenderer(opts: {
  label: string;
  log: Logger;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  intervalMs?: number;
  now?: () => number;
}): ProgressRenderer {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY) return deferredBar(opts.label, stream);
  return logRenderer(opts.label, opts.log, opts.intervalMs ?? 5000, opts.now ?? Date.now);
}

/**
 * The TTY bar, loaded on first use (cli-progress is not kept in a daemon that never has a TTY):
 * updates before the module is loaded keep only the latest value.
 */
function deferredBar(label: string, stream: NodeJS.WritableStream): ProgressRenderer {
  let bar: ProgressRenderer | undefined;
  let latest: TransferProgress | undefined;
  let finished = false;
  void import('./progress-bar.ts').then((m) => {
    bar = m.barRenderer(label, stream);
    if (latest) bar.update(latest);
    if (finished) bar.done();
  });
  return {
    update(p) {
      if (bar) bar.update(p);
      else latest = p;
    },
    done(p) {
      if (bar) bar.done(p);
      else {
        if (p) latest = p;
        finished = true;
      }
    },
  };
}

function logRenderer(label: string, log: Logger, intervalMs: number, now: () => number): ProgressRenderer {
  let last = -Infinity;
  const line = (p: TransferProgress, final: boolean): void => {
    const pct = p.total ? Math.floor((p.bytes * 100) / p.total) : undefined;
    log.info(
      { bytes: p.bytes, total: p.total, rate: Math.round(p.rate), percent: pct },
      `${label}: ${final ? 'done ' : ''}${formatBytes(p.bytes)}${p.total !== undefined ? ` of ${formatBytes(p.total)}` : ''} at ${formatBytes(p.rate)}/s`,
    );
  };
  return {
    update(p) {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      line(p, false);
    },
    done(p) {
      if (p) line(p, true);
    },
  };
}
