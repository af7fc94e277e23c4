/**
 * V8 flags for a small device (README "Footprint", chosen by measurement): the SEA's execArgv
 * and the node + bundle launcher of `make bundle`; the benches run the agent with them too.
 *   --max-semi-space-size=1  the young generation stays at 1 MiB per semi-space (default: grows
 *                            to 16 under allocation, e.g. SNMP walks, and the RSS stays there)
 *   --max-old-space-size=16  the old generation is collected before it grows far past the live
 *                            heap (48: +4 MiB RSS after 500 SNMP walks, all of it garbage;
 *                            16: flat); a 256 MiB upgrade completes under it (footprint bench)
 *   --lite-mode              no optimizing compiler, less code and feedback memory
 */
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=16', '--lite-mode'];
