/**
 * Lab tests need root and real daemons. Locally a missing prerequisite skips the lab
 * tests with a reason; with `CI` set it fails them, so CI can never pass by skipping.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe } from 'vitest';

const SEARCH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** A command name (looked up in the system's bin directories) or an absolute path. */
export function haveTool(name: string): boolean {
  if (name.startsWith('/')) return existsSync(name);
  return SEARCH.some((d) => existsSync(`${d}/${name}`));
}

export function missingPrereqs(tools: string[]): string[] {
  const missing = tools.filter((t) => !haveTool(t));
  if (process.getuid?.() !== 0) missing.unshift('root');
  else {
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    } catch {
      missing.unshift('ip netns');
    }
  }
  return missing;
}

/**
 * `describe` for a lab suite: runs it when every tool is present, otherwise skips it
 * (locally) or fails (CI) naming what is missing.
 */
export function describeLab(name: string, tools: string[], fn: () => void): void {
  const missing = missingPrereqs(tools);
  if (missing.length === 0) {
    describe(name, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      throw new Error(`lab prerequisites missing under CI: ${missing.join(', ')} (run scripts/setup.sh)`);
    });
  } else {
    describe.skip(`${name} [skipped: missing ${missing.join(', ')}]`, fn);
  }
}

/**
 * Path of the built agent; lab and CLI tests run the real executable. CPE_AGENT_BIN selects
 * another build under test, e.g. the single executable: CPE_AGENT_BIN=dist/sea/x64/cpe-agent.
 */
export const AGENT = process.env.CPE_AGENT_BIN
  ? new URL(process.env.CPE_AGENT_BIN, `file://${process.cwd()}/`).pathname
  : new URL('../../dist/cpe-agent', import.meta.url).pathname;

/** The third-party captures in ../shared/captures (CI clones main with shared/ beside it). */
export function capturePath(name: string): string {
  return new URL(`../../../shared/captures/${name}`, import.meta.url).pathname;
}
