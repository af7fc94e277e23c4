/**
 * The QEMU console helper for tests: scripts/qemu/console.ts (also used by make qemu-demo and
 * the in-guest benchmarks). Call killAllQemu() in afterEach/afterAll.
 */
export * from '../../scripts/qemu/console.ts';
