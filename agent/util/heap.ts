/**
 * The daemon's heap after a burst of work (start-up, a decision, an upgrade attempt): once it has
 * nothing to do, one full garbage collection that also compacts and gives free pages back, what
 * V8's memory reducer would do on its own some 8 s later. The daemon then sits at its settled
 * RSS right away (about 2 MiB less than just after start-up: README "Footprint"). Needs
 * --expose-gc (DEVICE_FLAGS); without it (a developer's node) nothing happens.
 */
type Gc = (opts: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** ms of quiet before the collection (the last state and status writes are garbage by then) */
export const COMPACT_AFTER_MS = 500;

let timer: NodeJS.Timeout | undefined;

/** Collects once, COMPACT_AFTER_MS after the last call (a later call moves it). */
export function compactHeapSoon(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') return;
  clearTimeout(timer);
  timer = setTimeout(() => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }), COMPACT_AFTER_MS);
  timer.unref();
}
