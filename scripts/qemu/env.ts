/**
 * Host side of the QEMU modem's U-Boot environment (the same codec as the agent's board
 * backend, platform/uboot/*):
 *   node scripts/qemu/env.ts write DIR name=value…  → DIR/uboot.env (flags 1) and
 *        DIR/uboot-redund.env (same variables, flags 0): both valid, copy 1 current
 *   node scripts/qemu/env.ts read FILE1 FILE2       → the current variables as JSON
 *        (null when no copy is valid)
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { encodeEnv, DEFAULT_ENV_SIZE } from '../../platform/uboot/env-format.ts';
import { UBootEnvStore } from '../../platform/uboot/env-store.ts';

export const ENV_FILES = ['uboot.env', 'uboot-redund.env'] as const;

export function writeInitialEnv(dir: string, vars: Record<string, string>, size = DEFAULT_ENV_SIZE): void {
  writeFileSync(join(dir, ENV_FILES[0]), encodeEnv(vars, { size, redundant: true, flags: 1 }));
  writeFileSync(join(dir, ENV_FILES[1]), encodeEnv(vars, { size, redundant: true, flags: 0 }));
}

export async function readEnv(file1: string, file2: string): Promise<{ vars: Record<string, string>; copy: number; flags: number } | null> {
  return new UBootEnvStore({ copies: [{ path: file1 }, { path: file2 }] }).read();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'write' && args[0]) {
    const vars: Record<string, string> = {};
    for (const a of args.slice(1)) {
      const eq = a.indexOf('=');
      if (eq <= 0) throw new Error(`not name=value: ${a}`);
      vars[a.slice(0, eq)] = a.slice(eq + 1);
    }
    writeInitialEnv(args[0], vars);
  } else if (cmd === 'read' && args[0] && args[1]) {
    process.stdout.write(JSON.stringify(await readEnv(args[0], args[1])) + '\n');
  } else {
    process.stderr.write('usage: env.ts write DIR name=value… | read FILE1 FILE2\n');
    process.exit(2);
  }
}
