/**
 * V8 flags of the two roles one binary serves (README "Footprint").
 *
 * DEVICE_FLAGS are baked into the single executable's execArgv and the node + bundle launcher
 * (scripts/bundle.ts): they fit the modem daemon (`run`), chosen by measurement:
 *   --max-semi-space-size=1  the young generation stays at 1 MiB per semi-space (default: grows
 *                            to 16 under allocation, e.g. SNMP walks, and the RSS stays there)
 *   --max-old-space-size=16  the old generation is collected before it grows far past the live
 *                            heap (48: +4 MiB RSS after 500 SNMP walks, all of it garbage;
 *                            16: flat); a 256 MiB upgrade completes under it (footprint bench)
 *   --lite-mode              no optimizing compiler, less code and feedback memory
 *   --expose-gc              the daemon compacts its heap once it turns idle (agent/util/heap.ts):
 *                            its settled RSS 0.5 s after start-up instead of some 8 s later
 *                            (about 2 MiB less in between)
 *
 * The LEG (`leg`) runs on a server and holds every subscriber on its heap (10⁵ subscribers:
 * about 56 MiB), and its replay is CPU-bound (lite mode: an order of magnitude slower): under the
 * device flags it would run out of heap. `leg` re-executes itself once with SERVER_FLAGS appended
 * (later V8 flags win): the SEA through `--node-options=` (its execArgvExtension is "cli"), the
 * node + bundle launcher by naming the flags before the script.
 */
export const DEVICE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--max-old-space-size=16', '--lite-mode', '--expose-gc'];
/**
 * --no-lite-mode: a replay of 10⁶ messages takes 3.6 s instead of 38 s. It changes V8's flag
 * hash, so the SEA's code cache is rejected with a generic process warning ("Code cache data
 * rejected."): --disable-warning=Warning silences that type only (typed warnings stay).
 */
export const SERVER_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--max-old-space-size=4096', '--no-lite-mode', '--disable-warning=Warning'];
/**
 * glibc malloc for the daemon on the device: the mmap threshold fixed at 64 KiB. By default glibc
 * raises its threshold to the size of the largest mmap'd block freed (a 1 MiB slot-read buffer,
 * freed once the boot checks are done), so the 64 KiB stream buffers of the start-up go to the
 * brk heap afterwards and stay there as holes: about 1.8 MiB of the idle daemon's RSS, and which
 * way it falls varies from start to start (README "Footprint"). Fixed, they are mmap'd and given
 * back when freed; a bare node is not changed by it (41.7 MiB either way). Set by the rootfs
 * supervisor (platform/rootfs/usr/sbin/cpe-agent-supervise) and the node + bundle launcher; the
 * single executable cannot carry an environment variable, so a SEA started by hand runs without.
 */
export const DEVICE_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=65536';
/** set in the re-executed process: never a second time */
export const RELAUNCHED_ENV = 'CPE_AGENT_SERVER_FLAGS';
const SERVER_COMMANDS = new Set(['leg']);

export interface Relaunch {
  readonly file: string;
  readonly args: string[];
}

/**
 * The command line that re-runs this process with SERVER_FLAGS, or undefined when it should
 * run as it is: not a server command, already re-executed, or not under the device flags.
 * argv is process.argv (argv[1] is the script; a SEA has its own path there).
 */
export function serverRelaunch(argv: readonly string[], execArgv: readonly string[], execPath: string, sea: boolean, env: NodeJS.ProcessEnv): Relaunch | undefined {
  const command = argv[2];
  if (command === undefined || !SERVER_COMMANDS.has(command)) return undefined;
  if (env[RELAUNCHED_ENV] === '1') return undefined;
  if (!execArgv.includes('--lite-mode') && !execArgv.includes('--max-old-space-size=16')) return undefined;
  const rest = argv.slice(2);
  if (sea) return { file: execPath, args: [execPath, `--node-options=${SERVER_FLAGS.join(' ')}`, ...rest] };
  return { file: execPath, args: [execPath, ...execArgv, ...SERVER_FLAGS, argv[1] ?? '', ...rest] };
}

/**
 * The command line that runs this program again (a child doing part of its work, e.g. the
 * daemon's `digest` child): the SEA is its own binary (its execArgv is built in: repeating it
 * would make arguments of it); node + bundle is node, its flags and the script.
 */
export function selfCommand(argv: readonly string[], execArgv: readonly string[], execPath: string, sea: boolean): string[] {
  return sea ? [execPath] : [execPath, ...execArgv, argv[1] ?? ''];
}
