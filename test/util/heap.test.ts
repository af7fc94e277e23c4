/**
 * compactHeapSoon(): one full collection with the memory-reducing flavour, COMPACT_AFTER_MS after
 * the last call; nothing without --expose-gc (a `gc` global).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPACT_AFTER_MS, compactHeapSoon } from '../../agent/util/heap.ts';
import { DEVICE_FLAGS } from '../../agent/runtime-flags.ts';

const g = globalThis as { gc?: unknown };
let saved: unknown;
beforeEach(() => {
  saved = g.gc;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  g.gc = saved;
});

describe('compactHeapSoon', () => {
  it('collects once, COMPACT_AFTER_MS after the last of several calls, with the last-resort flavour', () => {
    const calls: unknown[] = [];
    g.gc = (o: unknown) => void calls.push(o);
    compactHeapSoon();
    vi.advanceTimersByTime(COMPACT_AFTER_MS - 1);
    compactHeapSoon(); // moves it
    vi.advanceTimersByTime(COMPACT_AFTER_MS - 1);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    vi.advanceTimersByTime(10 * COMPACT_AFTER_MS);
    expect(calls.length).toBe(1);
  });
  it('without a gc global (no --expose-gc) nothing is scheduled', () => {
    g.gc = undefined;
    compactHeapSoon();
    expect(vi.getTimerCount()).toBe(0);
  });
  it('the device flags expose gc (the SEA and the launcher run with them)', () => {
    expect(DEVICE_FLAGS).toContain('--expose-gc');
  });
});
