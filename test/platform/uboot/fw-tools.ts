/**
 * libubootenv's fw_printenv / fw_setenv (Debian libubootenv-tool) on env files in a temp
 * dir: the reference the env codec is cross-checked against. Missing tools skip the suite
 * locally and fail it under CI (scripts/setup.sh installs them).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'vitest';
import { haveTool } from '../../helpers/prereq.ts';

export function describeWithFwTools(name: string, fn: () => void): void {
  const missing = ['fw_printenv', 'fw_setenv'].filter((t) => !haveTool(t));
  if (missing.length === 0) describe(name, fn);
  else if (process.env.CI) {
    describe(name, () => {
      throw new Error(`missing under CI: ${missing.join(', ')} (run scripts/setup.sh)`);
    });
  } else describe.skip(`${name} [skipped: missing ${missing.join(', ')}]`, fn);
}

/** Writes fw_env.config + an empty default env into `dir`; returns the fw_* arguments. */
export function fwConfig(dir: string, files: string[], size: number): string[] {
  const cfg = join(dir, 'fw_env.config');
  writeFileSync(cfg, files.map((f) => `${f} 0x0 0x${size.toString(16)}\n`).join(''));
  const def = join(dir, 'defenv');
  writeFileSync(def, '');
  return ['-c', cfg, '-f', def];
}

/** fw_printenv output as a map (null: fw_printenv found no valid copy and used the empty default). */
export function fwPrintenv(args: string[]): Record<string, string> {
  const out = execFileSync('fw_printenv', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const vars: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}

export function fwSetenv(args: string[], name: string, value: string): void {
  execFileSync('fw_setenv', [...args, name, value], { stdio: ['ignore', 'pipe', 'pipe'] });
}
