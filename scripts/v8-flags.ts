/** The device V8 flags (chosen by measurement): agent/runtime-flags.ts holds them and says why. */
export { DEVICE_FLAGS as V8_FLAGS, DEVICE_GLIBC_TUNABLES } from '../agent/runtime-flags.ts';
