/**
 * The cli-progress bar for a TTY (loaded by progress.ts only when a transfer runs on a TTY).
 */
import cliProgress from 'cli-progress';
import { formatBytes, type ProgressRenderer } from './progress.ts';

export function barRenderer(label: string, stream: NodeJS.WritableStream): ProgressRenderer {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} [{bar}] {percentage}% | {done} / {size} | {speed}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { done: formatBytes(p.bytes), size: p.total === undefined ? '?' : formatBytes(p.total), speed: formatBytes(p.rate) };
      if (!started) {
        bar.start(p.total ?? 0, p.bytes, payload);
        started = true;
      } else {
        if (p.total !== undefined && p.total !== bar.getTotal()) bar.setTotal(p.total);
        bar.update(p.bytes, payload);
      }
    },
    done(p) {
      if (p) this.update(p);
      if (started) bar.stop();
    },
  };
}
