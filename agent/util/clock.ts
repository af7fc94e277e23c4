/**
 * Milliseconds on a monotonic clock that reads like the wall clock at start: Date.now() once,
 * then process.hrtime (never steps back when NTP or the operator sets the time). The same as
 * performance.timeOrigin + performance.now(), without the global `performance`, whose first use
 * loads perf_hooks and eight more internal modules into the daemon (README "Footprint").
 */
const hr0 = process.hrtime.bigint();
const wall0 = Date.now();

export function monotonicMs(): number {
  return wall0 + Number(process.hrtime.bigint() - hr0) / 1e6;
}
